"""DynamoDB requests whose answers the emulator's patches must not change, run against moto.

`python -m tests.local.moto_scenario` prints the answers of moto as released (no patch applied);
tests/local/test_moto_costs.py runs the same requests with the patches and compares.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

_LIMIT = 405_000  # moto's item size limit
_NAMES = {"#s": "status", "#c": "count", "#tl": "timeline", "#m": "meta", "#k": "pk"}


def _answer(call: Callable[[], Any]) -> Any:
    """What a request answers: its result without metadata, or its error code and message."""
    try:
        result = call()
    except ClientError as error:
        return {"error": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}
    result.pop("ResponseMetadata", None)
    return json.loads(json.dumps(result, default=lambda value: sorted(value) if isinstance(value, set) else str(value)))


def _update(client: Any, expression: str, values: dict[str, Any], **extra: Any) -> Any:
    return _answer(
        lambda: client.update_item(
            TableName="t",
            Key={"pk": {"S": "a"}},
            UpdateExpression=expression,
            ExpressionAttributeNames={k: v for k, v in _NAMES.items() if k in expression + str(extra)},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            **extra,
        )
    )


def _updates(client: Any) -> list[Any]:
    entry = {"M": {"at": {"S": "2026-11-30T10:00:00Z"}, "n": {"N": "1"}, "ok": {"BOOL": True}, "no": {"NULL": True}}}
    return [
        _update(
            client,
            "SET #s = :s, #tl = list_append(if_not_exists(#tl, :e), :tl) ADD #c :one",
            {":s": {"S": "queued"}, ":e": {"L": []}, ":tl": {"L": [entry]}, ":one": {"N": "1"}},
        ),
        _update(
            client,
            "SET #m = :m, tags = :tags REMOVE gone",
            {
                ":m": {"M": {"deep": {"M": {"list": {"L": [{"S": "é"}, {"N": "2.5"}, {"B": b"\x00\x01"}]}}}}},
                ":tags": {"SS": ["x", "y"]},
            },
        ),
        _update(
            client,
            "SET #m.deep.word = :w, #s = :s",
            {":w": {"S": "naïve"}, ":s": {"S": "ringing"}, ":q": {"S": "queued"}, ":ten": {"N": "10"}},
            ConditionExpression="#s = :q AND attribute_exists(#m.deep) AND #c < :ten",
        ),
        _update(client, "SET #s = :s", {":s": {"S": "x"}}, ConditionExpression="#s = :s"),  # refused
        _update(client, "SET #s = :s, #s = :s", {":s": {"S": "x"}}),  # two actions on one path
        _update(client, "SET #m = :s, #m.deep = :s", {":s": {"S": "x"}}),  # overlapping paths
        _update(client, "SET #k = :s", {":s": {"S": "b"}}),  # the key
        _update(client, "ADD #s :one", {":one": {"N": "1"}}),  # a number added to a string
        _update(client, "SET #s = :s", {":s": {"S": "x"}, ":unused": {"S": "y"}}),
        _update(client, "SET big = :big", {":big": {"S": "x" * (_LIMIT - 200)}}),  # past the item limit
        _update(client, "SET fits = :f", {":f": {"S": "y" * 1000}}),
        _update(client, "SET #s = :s SET tags = :s", {":s": {"S": "x"}}),  # two SET clauses
        _update(client, "SET q = :s REMOVE gone REMOVE fits", {":s": {"S": "x"}}),  # two REMOVE clauses
        _update(client, "SET a = :s SET b = :s ADD c :one ADD d :one", {":s": {"S": "x"}, ":one": {"N": "1"}}),
    ]


def _puts(client: Any) -> list[Any]:
    def put(size: int) -> Any:
        return _answer(lambda: client.put_item(TableName="t", Item={"pk": {"S": "p"}, "v": {"S": "z" * size}}))

    return [put(_LIMIT - 5), put(_LIMIT - 4), put(_LIMIT - 3)]  # either side of the limit ("pk" "p" "v": 4 bytes)


def _transactions(client: Any) -> list[Any]:
    def update(key: str, condition: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": "t",
                "Key": {"pk": {"S": key}},
                "UpdateExpression": "ADD #c :one",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#c": "count"},
                "ExpressionAttributeValues": {":one": {"N": "1"}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    transact = client.transact_write_items
    return [
        _answer(
            lambda: transact(
                TransactItems=[update("a", "attribute_exists(pk)"), update("n", "attribute_not_exists(pk)")]
            )
        ),
        _answer(lambda: transact(TransactItems=[update("n", "attribute_not_exists(pk)"), update("a", "#c > :one")])),
        _answer(
            lambda: transact(TransactItems=[update("a", "attribute_exists(pk)"), update("a", "attribute_exists(pk)")])
        ),
        _answer(lambda: client.scan(TableName="t", ConsistentRead=True)),
    ]


def scenario() -> list[Any]:
    """Every answer, in order, from a fresh mock."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        answers = _updates(client) + _puts(client) + _transactions(client)
        answers.append(_answer(lambda: client.get_item(TableName="t", Key={"pk": {"S": "a"}})))
        return answers


if __name__ == "__main__":
    print(json.dumps(scenario()))
