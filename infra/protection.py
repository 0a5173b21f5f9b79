"""Data at rest: which key encrypts it and whether `cdk destroy` keeps it.

Two CDK context switches, read once here so every resource agrees:

- `kms`: `aws` (default) encrypts with AWS-managed keys (DynamoDB's `aws/dynamodb`, SSE-S3,
  SSE-SQS, CloudWatch Logs' own encryption); `customer` creates one customer-managed KMS key
  (rotated yearly) for the tables, the bucket, the queues and their DLQs, every log group and
  the alarm topic, and grants each principal that touches them exactly the use it needs.
- `retain_data`: `true` (default) keeps the tables, the bucket (and the key, without which they
  cannot be read) when the stack is deleted; `false` deletes them with it.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

KMS_CONTEXT = "kms"
RETAIN_CONTEXT = "retain_data"
KMS_CHOICES = ("aws", "customer")
# What a function needs on the key to read and write the tables, bucket and queues it reaches (the
# same set CDK's `grant_read_write_data` gives for a table). Every function reaches a table.
FUNCTION_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")


def _flag(stack: Stack, name: str, default: bool) -> bool:
    value = stack.node.try_get_context(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"context {name}={value!r}: use true or false")


class DataProtection:
    """The key (if any) and the removal policy; resources take their settings from here."""

    def __init__(self, stack: Stack, *, name: str) -> None:
        choice = str(stack.node.try_get_context(KMS_CONTEXT) or "aws")
        if choice not in KMS_CHOICES:
            raise ValueError(f"context {KMS_CONTEXT}={choice!r}: use one of {', '.join(KMS_CHOICES)}")
        self.retain = _flag(stack, RETAIN_CONTEXT, default=True)
        self.removal_policy = RemovalPolicy.RETAIN if self.retain else RemovalPolicy.DESTROY
        self.key: kms.Key | None = None
        if choice == "customer":
            self.key = kms.Key(
                stack,
                "DataKey",
                alias=f"alias/{name}",
                description=f"{name}: tables, bucket, queues, logs and alarm topic",
                enable_key_rotation=True,
                removal_policy=self.removal_policy,  # the data it encrypts is unreadable without it
                pending_window=Duration.days(30),
            )
            self._allow_services(stack)

    @property
    def customer_managed(self) -> bool:
        return self.key is not None

    def _allow_services(self, stack: Stack) -> None:
        """Services that encrypt for us without a role of ours: Logs, CloudWatch alarms (to SNS), S3 notifications."""
        assert self.key is not None
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        for sid, service in (("AlarmsPublishToTheTopic", "cloudwatch"), ("BucketNotifiesTheQueue", "s3")):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(f"{service}.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                )
            )

    # --- settings per resource kind -------------------------------------------------------------

    def table(self) -> dict[str, Any]:
        if self.key is None:
            return {"encryption": dynamodb.TableEncryption.AWS_MANAGED, "removal_policy": self.removal_policy}
        return {
            "encryption": dynamodb.TableEncryption.CUSTOMER_MANAGED,
            "encryption_key": self.key,
            "removal_policy": self.removal_policy,
        }

    def bucket(self) -> dict[str, Any]:
        if self.key is None:
            return {"encryption": s3.BucketEncryption.S3_MANAGED, "removal_policy": self.removal_policy}
        return {
            "encryption": s3.BucketEncryption.KMS,
            "encryption_key": self.key,
            "bucket_key_enabled": True,  # one data key per bucket, not a KMS request per object
            "removal_policy": self.removal_policy,
        }

    def queue(self) -> dict[str, Any]:
        if self.key is None:
            return {"encryption": sqs.QueueEncryption.SQS_MANAGED}
        return {
            "encryption": sqs.QueueEncryption.KMS,
            "encryption_master_key": self.key,
            "data_key_reuse": Duration.minutes(5),
        }

    def log_group(self) -> dict[str, Any]:
        return {} if self.key is None else {"encryption_key": self.key}

    def secret(self) -> dict[str, Any]:
        return {} if self.key is None else {"encryption_key": self.key}

    def topic(self) -> dict[str, Any]:
        return {} if self.key is None else {"master_key": self.key}

    def function_statements(self) -> list[iam.PolicyStatement]:
        """What each function adds to its own policy: use of the key (none with AWS-managed keys)."""
        if self.key is None:
            return []
        return [iam.PolicyStatement(actions=list(FUNCTION_KEY_ACTIONS), resources=[self.key.key_arn])]

    def grant_send(self, role: iam.IRole) -> None:
        """A role that only sends to the queues (the Scheduler's) needs the key to encrypt its messages."""
        if self.key is not None:
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=[self.key.key_arn])
            )
