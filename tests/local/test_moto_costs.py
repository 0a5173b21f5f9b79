"""The emulator's speed-ups change no answer, and a receive no longer slows with the queue's depth."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.fidelity import serialize_dynamodb_writes
from local.moto_costs import dynamo_size, remove_moto_overheads
from tests.local.moto_scenario import scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws() -> Iterator[None]:
    remove_moto_overheads()
    with mock_aws():
        yield


def test_a_receive_from_a_deep_queue_costs_about_what_one_from_a_shallow_queue_does(aws: None) -> None:
    # Given a queue 3,000 messages deep (the local stack's dial backlog can reach that)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="deep")["QueueUrl"]
    for _ in range(300):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(10)])

    # When 10 messages are received, five times
    started = time.perf_counter()
    for _ in range(5):
        assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]) == 10
    each = (time.perf_counter() - started) / 5

    # Then each takes a few milliseconds (moto's own check of every message's retention took ~2-5 s here)
    assert each < 0.5, f"{each:.3f} s per receive"


def test_a_message_past_the_retention_period_is_still_never_received(aws: None) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="new")
    sqs.send_message(QueueUrl=url, MessageBody="old")
    from moto.sqs.models import sqs_backends

    # Given one message sent two minutes ago on a queue that keeps them one minute (behind one sent now:
    # moto ends a receive at the first expired message)
    queue = sqs_backends["123456789012"]["us-east-1"].get_queue("short")
    old = next(message for message in queue._messages if message.body == "old")
    old.sent_timestamp = int(old.sent_timestamp or 0) - 120_000  # type: ignore[assignment]

    # When the queue is received from, then only the other one comes
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in received] == ["new"]


def item(table: Any, key: str) -> dict[str, Any]:
    return dict(table.get_item(Key={"pk": key}, ConsistentRead=True)["Item"])


def test_update_expressions_give_the_same_items_as_before(aws: None) -> None:
    """The update expression is parsed once and its tree copied field by field now: the same expression
    (SET, ADD, REMOVE, list_append, if_not_exists) on a new item (validated twice by moto), then twice
    more with other values on the existing one."""
    dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
    table = dynamodb.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    expression = (
        "SET #s = :s, #tl = list_append(if_not_exists(#tl, :empty), :tl), #n = if_not_exists(#n, :s)"
        " ADD #c :one REMOVE #gone"
    )
    names = {"#s": "status", "#tl": "timeline", "#n": "first", "#c": "count", "#gone": "gone"}
    for status in ("queued", "ringing", "completed"):
        values = {":s": status, ":empty": [], ":tl": [{"at": status, "n": 1}], ":one": 1}
        table.update_item(
            Key={"pk": "a"},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    assert item(table, "a") == {
        "pk": "a",
        "status": "completed",
        "first": "queued",
        "count": 3,
        "timeline": [{"at": "queued", "n": 1}, {"at": "ringing", "n": 1}, {"at": "completed", "n": 1}],
    }


def test_items_of_every_attribute_type_read_back_as_written(aws: None) -> None:
    """Answers of JSON's own types are written directly now; binary values and sets still round-trip."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="types",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    plain: dict[str, Any] = {
        "pk": {"S": "plain"},
        "n": {"N": "12.5"},
        "yes": {"BOOL": True},
        "nothing": {"NULL": True},
        "tags": {"SS": ["a", "b"]},
        "scores": {"NS": ["1", "2"]},
        "nested": {"M": {"list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"BOOL": False}}}]}}},
    }
    binary: dict[str, Any] = {"pk": {"S": "binary"}, "blob": {"B": b"\x00\xffraw"}, "blobs": {"BS": [b"\x01", b"\x02"]}}
    for item in (plain, binary):
        client.put_item(TableName="types", Item=item)

    def normalized(item: dict[str, Any]) -> dict[str, Any]:
        sets = {"SS", "NS", "BS"}
        return {
            name: {kind: sorted(v) if kind in sets else v for kind, v in value.items()} for name, value in item.items()
        }

    for item in (plain, binary):
        key = {"pk": item["pk"]}
        assert normalized(client.get_item(TableName="types", Key=key)["Item"]) == normalized(item)
    assert client.get_item(TableName="types", Key={"pk": {"S": "missing"}}).get("Item") is None
    scanned = client.scan(TableName="types")
    assert scanned["Count"] == 2 and sorted(i["pk"]["S"] for i in scanned["Items"]) == ["binary", "plain"]


def test_dynamodb_answers_are_moto_s_own_with_every_patch() -> None:
    """Updates (sizes, nested paths, conditions, each validation error), puts either side of the item
    limit, transactions (committed, cancelled, refused) and reads: the same answers, byte for byte."""
    # Given moto's answers to the scenario, as released (a process without the patches)
    released = subprocess.run(
        [sys.executable, "-m", "tests.local.moto_scenario"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    expected = json.loads(released.stdout)

    # When the same requests go to moto with the emulator's patches (both modules, as in its process)
    serialize_dynamodb_writes()
    remove_moto_overheads()
    answers = scenario()

    # Then every answer is the same
    assert len(answers) == len(expected)
    for index, (answer, wanted) in enumerate(zip(answers, expected, strict=True)):
        assert answer == wanted, f"request {index}"


def test_item_sizes_are_the_ones_moto_measures(monkeypatch: pytest.MonkeyPatch) -> None:
    remove_moto_overheads()
    from moto.dynamodb.models.dynamo_type import DynamoType

    values: list[dict[str, Any]] = [
        {"S": "plain"},
        {"S": "naïve ünïcode"},
        {"N": "-12.500"},
        {"B": b"\x00\xff"},
        {"B": "AAE="},
        {"BOOL": False},
        {"NULL": True},
        {"SS": ["a", "bé"]},
        {"NS": ["1", "2.25"]},
        {"BS": [b"\x01", b"\x02\x03"]},
        {"L": []},
        {"M": {}},
        {"L": [{"S": "x"}, {"L": [{"N": "1"}, {"M": {"k": {"SS": ["y"]}}}]}]},
        {"M": {"deep": {"M": {"list": {"L": [{"S": "é"}, {"BOOL": True}, {"NULL": True}]}}}, "n": {"N": "3"}}},
    ]
    typed = [DynamoType(value) for value in values]
    with_wire_form = DynamoType({"M": {"k": {"S": "v"}}})
    with_wire_form.value["k"].value = [{"S": "raw"}]  # a wire-form value below a map: moto converts it
    with_wire_form.value["k"].type = "L"
    typed.append(with_wire_form)

    ours = [dynamo_size(value) for value in typed]
    monkeypatch.setattr(DynamoType, "size", dynamo_size.__wrapped__)  # type: ignore[attr-defined]  # moto's own
    assert ours == [value.size() for value in typed]


def test_an_update_on_a_table_with_a_stream_still_records_the_old_image(aws: None) -> None:
    """UpdateItem no longer copies the item for tables without a stream; one with a stream keeps its old images."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    stream_arn = client.create_table(
        TableName="streamed",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    client.put_item(TableName="streamed", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    client.update_item(
        TableName="streamed",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )

    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    modify = [record["dynamodb"] for record in records if record["eventName"] == "MODIFY"]
    assert modify[0]["OldImage"]["n"] == {"N": "1"} and modify[0]["NewImage"]["n"] == {"N": "2"}
