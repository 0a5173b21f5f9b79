"""Create every declared resource in the emulator (or in moto's in-process mock).

Everything comes from `chalicelib.resources`, so the local stack and the test
fixtures build exactly what `infra/` deploys. Each step is create-if-missing and
then converges the settings that matter (queue attributes, TTL), so calling it
twice, or after a declaration changed, is safe.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from chalicelib import aws, resources
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeDefinitionTypeDef, KeySchemaElementTypeDef


def create_resources(settings: Settings) -> None:
    """Tables (with GSIs and TTL), queues with their DLQs, the bucket and the schedule group."""
    for table in resources.TABLES:
        _create_table(settings, table)
    for queue in resources.QUEUES:
        _create_queue(settings, queue)
    _create_bucket(settings)
    _create_schedule_group(settings)


def _key_schema(partition_key: str, sort_key: str | None) -> list[KeySchemaElementTypeDef]:
    schema: list[KeySchemaElementTypeDef] = [{"AttributeName": partition_key, "KeyType": "HASH"}]
    if sort_key:
        schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
    return schema


def _create_table(settings: Settings, table: resources.Table) -> None:
    keys = [table.partition_key, table.sort_key]
    for index in table.indexes:
        keys += [index.partition_key, index.sort_key]
    attributes: list[AttributeDefinitionTypeDef] = [
        {"AttributeName": key, "AttributeType": table.attribute_types.get(key, "S")}  # type: ignore[typeddict-item]
        for key in dict.fromkeys(k for k in keys if k)  # unique, in declaration order
    ]
    request: dict[str, Any] = {
        "TableName": resources.table_name(settings, table),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": attributes,
        "KeySchema": _key_schema(table.partition_key, table.sort_key),
    }
    if table.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition_key, index.sort_key),
                "Projection": {"ProjectionType": index.projection},
            }
            for index in table.indexes
        ]
    ddb = aws.dynamodb()
    try:
        ddb.create_table(**request)
    except ddb.exceptions.ResourceInUseException:  # already there (kept data): add the indexes declared since
        _add_missing_indexes(request)
    if table.ttl_attribute:
        name = request["TableName"]
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )


def _add_missing_indexes(request: dict[str, Any]) -> None:
    """An index declared after the table was made (a local stack's kept data) is created, one per call as
    DynamoDB takes them; the emulator indexes the existing items at once."""
    ddb = aws.dynamodb()
    name = request["TableName"]
    existing = {i["IndexName"] for i in ddb.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])}
    for index in request.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] not in existing:
            ddb.update_table(
                TableName=name,
                AttributeDefinitions=request["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )


def _create_queue(settings: Settings, queue: resources.Queue) -> None:
    sqs = aws.sqs()
    # CreateQueue without attributes is idempotent; the attributes are then set, so a changed declaration
    # converges instead of failing with QueueAlreadyExists.
    dlq_url = sqs.create_queue(QueueName=resources.dlq_name(settings, queue))["QueueUrl"]
    dlq_attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
    dlq_arn = dlq_attributes["QueueArn"]
    url = sqs.create_queue(QueueName=resources.queue_name(settings, queue))["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "VisibilityTimeout": str(queue.visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}
            ),
        },
    )


def _create_bucket(settings: Settings) -> None:
    s3 = aws.s3()
    request: dict[str, Any] = {"Bucket": resources.bucket_name(settings)}
    region = s3.meta.region_name
    if region != "us-east-1":  # the one region that rejects an explicit LocationConstraint
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(**request)
    s3.put_bucket_notification_configuration(
        Bucket=resources.bucket_name(settings),
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": f"{prefix.strip('/')}-to-{queue.short}",
                    "QueueArn": resources.queue_arn(settings, queue),
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
                for prefix, queue in resources.BUCKET_NOTIFICATIONS
            ]
        },
    )


def _create_schedule_group(settings: Settings) -> None:
    scheduler = aws.scheduler()
    with contextlib.suppress(scheduler.exceptions.ConflictException):
        scheduler.create_schedule_group(Name=resources.schedule_group_name(settings))
