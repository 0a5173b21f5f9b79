"""The emulator patches: transactions stay all-or-nothing, and cost the same on a big table."""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.fidelity import serialize_dynamodb_writes


@pytest.fixture
def table() -> Iterator[object]:
    serialize_dynamodb_writes()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_a_cancelled_transaction_leaves_every_item_as_it_was(table) -> None:  # type: ignore[no-untyped-def]
    table.put_item(TableName="t", Item={"k": {"S": "a"}, "n": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        table.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"k": {"S": "a"}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": "t", "Item": {"k": {"S": "new"}}}},
                {"Put": {"TableName": "t", "Item": {"k": {"S": "b"}}, "ConditionExpression": "attribute_exists(k)"}},
            ]
        )
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert table.get_item(TableName="t", Key={"k": {"S": "a"}})["Item"]["n"] == {"N": "1"}
    assert "Item" not in table.get_item(TableName="t", Key={"k": {"S": "new"}})


def test_transaction_cost_does_not_grow_with_the_table(table) -> None:  # type: ignore[no-untyped-def]
    def timed() -> float:
        started = time.perf_counter()
        for i in range(20):
            table.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"k": {"S": f"x{time.time_ns()}-{i}-{j}"}}}} for j in range(25)
                ]
            )
        return time.perf_counter() - started

    small = timed()
    for start in range(0, 5000, 25):
        table.batch_write_item(
            RequestItems={"t": [{"PutRequest": {"Item": {"k": {"S": f"fill{start + j}"}}}} for j in range(25)]}
        )
    big = timed()
    assert big < small * 3, (small, big)  # moto's own deep copy made this ~100x slower at 5,000 items
