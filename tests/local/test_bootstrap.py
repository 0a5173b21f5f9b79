"""create_resources builds every declared resource, twice without harm, on moto's server and in-process."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from moto import mock_aws

from chalicelib import aws, resources
from chalicelib.settings import Settings, get_settings
from local.bootstrap import create_resources
from local.emulator import Emulator


@pytest.fixture(scope="module", params=["server", "in-process"])
def settings(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Resources created twice (idempotence), on the moto server and under `mock_aws()` (the suite's way)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RESOURCE_PREFIX", f"t{uuid.uuid4().hex[:8]}")
        if request.param == "server":
            with Emulator():
                yield _create_twice()
        else:
            env.delenv("AWS_ENDPOINT_URL", raising=False)
            with mock_aws():
                yield _create_twice()
    get_settings.cache_clear()
    aws.reset()


def _create_twice() -> Settings:
    get_settings.cache_clear()
    aws.reset()
    create_resources(get_settings())
    create_resources(get_settings())
    return get_settings()


def test_creates_every_declared_table_with_its_indexes(settings: Settings) -> None:
    ddb = aws.dynamodb()
    for table in resources.TABLES:
        described = ddb.describe_table(TableName=resources.table_name(settings, table))["Table"]
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        keys = {k["KeyType"]: k["AttributeName"] for k in described["KeySchema"]}
        assert keys == {"HASH": table.partition_key, **({"RANGE": table.sort_key} if table.sort_key else {})}
        indexes = {i["IndexName"]: i for i in described.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {i.name for i in table.indexes}
        for index in table.indexes:
            assert indexes[index.name]["Projection"]["ProjectionType"] == index.projection
            assert indexes[index.name]["KeySchema"][0]["AttributeName"] == index.partition_key
        types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
        assert all(types[name] == table.attribute_types.get(name, "S") for name in types)
        if table.ttl_attribute:
            ttl = ddb.describe_time_to_live(TableName=described["TableName"])["TimeToLiveDescription"]
            assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}


def test_creates_queues_with_dead_letter_queues(settings: Settings) -> None:
    sqs = aws.sqs()
    for queue in resources.QUEUES:
        url = sqs.get_queue_url(QueueName=resources.queue_name(settings, queue))["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["VisibilityTimeout"] == str(queue.visibility_timeout)
        assert attributes["QueueArn"] == resources.queue_arn(settings, queue)
        redrive = json.loads(attributes["RedrivePolicy"])
        dlq_url = sqs.get_queue_url(QueueName=resources.dlq_name(settings, queue))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
        assert redrive["deadLetterTargetArn"] == dlq_arn["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == queue.max_receive_count


def test_creates_the_bucket_and_the_schedule_group(settings: Settings) -> None:
    aws.s3().head_bucket(Bucket=resources.bucket_name(settings))
    group = aws.scheduler().get_schedule_group(Name=resources.schedule_group_name(settings))
    assert group["State"] == "ACTIVE"


def test_ttl_and_declared_key_types(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """No table declares them yet; the paths must work the day one does."""
    probe = resources.Table(
        "probe",
        partition_key="pk",
        sort_key="seq",
        indexes=(resources.Index("by_owner", partition_key="owner", sort_key="seq"),),
        ttl_attribute="expires_at",
        attribute_types={"seq": "N"},
    )
    monkeypatch.setattr(resources, "TABLES", (probe,))
    create_resources(settings)
    create_resources(settings)

    name = resources.table_name(settings, probe)
    described = aws.dynamodb().describe_table(TableName=name)["Table"]
    types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
    assert types == {"pk": "S", "seq": "N", "owner": "S"}
    ttl = aws.dynamodb().describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_an_index_declared_after_the_table_was_made_is_added(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a table made before an index was declared on it (a local stack's kept data), with an item
    before = resources.Table("probe2", partition_key="pk")
    monkeypatch.setattr(resources, "TABLES", (before,))
    create_resources(settings)
    name = resources.table_name(settings, before)
    aws.dynamodb().put_item(TableName=name, Item={"pk": {"S": "a"}, "owner": {"S": "o1"}})
    # When the resources are created again with the index declared
    after = resources.Table("probe2", partition_key="pk", indexes=(resources.Index("by_owner", partition_key="owner"),))
    monkeypatch.setattr(resources, "TABLES", (after,))
    create_resources(settings)
    create_resources(settings)
    # Then the index exists and finds the existing item
    found = aws.dynamodb().query(
        TableName=name,
        IndexName="by_owner",
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": "o1"}},
    )
    assert [item["pk"]["S"] for item in found["Items"]] == ["a"]
