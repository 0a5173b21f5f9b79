"""What a security scanner (checkov, `make checkov`) asks of the stack: fixed, or skipped with a reason.

Fixed here: the REST API's access log (a log group with a retention) and X-Ray tracing, and a
stage-wide throttle that bounds what a runaway client can make the API (and its function) cost.
Every check that does not apply is skipped on the resource itself, as CloudFormation metadata
(`{"checkov": {"skip": [{"id", "comment"}]}}`), with the reason a reviewer reads in the scan's
output; a skip that depends on the `kms` switch is only there without the customer-managed key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aws_cdk import ArnFormat, CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import IConstruct

from .protection import DataProtection

# Requests per second (and burst) the API stage accepts before answering 429: about ten times what the
# dialers' reserved concurrency can make providers call back, and far above any one client's batch calls.
API_RATE_LIMIT = 200
API_BURST_LIMIT = 400
API_ACCOUNT_ROLE_CONTEXT = "api_gateway_account_role"

# One access-log line per request: who, what, how it ended. No query string, headers or body (API keys).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "errorType": "$context.error.responseType",
    },
    separators=(",", ":"),
)

# --- the reasons, one per check and case --------------------------------------------------------------

KMS_SWITCH = "deploy with -c kms=customer for a customer-managed key"
NOT_WITHOUT_KEY = {  # check -> reason, on every resource of the type, only when the kms switch is off
    "AWS::DynamoDB::Table": ("CKV_AWS_119", f"Encrypted at rest with the AWS-managed aws/dynamodb key; {KMS_SWITCH}."),
    "AWS::SQS::Queue": (
        "CKV_AWS_27",
        f"Encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which this check does not recognise; {KMS_SWITCH}.",
    ),
    "AWS::Logs::LogGroup": (
        "CKV_AWS_158",
        f"CloudWatch Logs encrypts every log group at rest with its own keys; {KMS_SWITCH}.",
    ),
    "AWS::SecretsManager::Secret": (
        "CKV_AWS_149",
        f"Encrypted at rest with the AWS-managed aws/secretsmanager key; {KMS_SWITCH}.",
    ),
    "AWS::SNS::Topic": (
        "CKV_AWS_26",
        "Carries alarm notifications only (alarm names and states, no customer data), and CloudWatch cannot publish "
        f"to a topic under the AWS-managed aws/sns key; {KMS_SWITCH}.",
    ),
}
BUCKET = {
    "CKV_AWS_18": "Reached only by this stack's function roles (public access blocked, TLS only); object-level access "
    "is audited with CloudTrail S3 data events rather than a second, log-holding bucket.",
    "CKV_AWS_21": "Holds short-lived copies with phone numbers (uploads 30 days, exports 1 day): versioning would keep "
    "them past their expiry; the tables hold the system of record, with point-in-time recovery.",
}
FUNCTION = {
    "CKV_AWS_117": "Reaches only AWS APIs and public HTTPS endpoints (phone providers, tenants' webhooks): no private "
    "resource to sit beside, and a VPC would add NAT cost and a failure point.",
    "CKV_AWS_173": "The environment holds names, the stage and ARNs only; provider credentials are SSM SecureString "
    "parameters read at run time.",
}
DLQ_SQS = (
    "Invoked by an SQS event source: a failing message goes to its queue's own DLQ (redrive policy, alarmed); "
    "a function DLQ applies to asynchronous invocations only."
)
DLQ_API = "Invoked synchronously by API Gateway only; a function DLQ applies to asynchronous invocations only."
DLQ_SCHEDULE = (
    "Invoked by its one-minute schedule: a failed sweep is redone by the next one, so a dead-lettered event would "
    "carry nothing to replay; failures alarm on Errors."
)
CONCURRENCY_API = (
    f"Bounded by the API stage's throttle ({API_RATE_LIMIT} requests/s, burst {API_BURST_LIMIT}); a reserved cap "
    "would turn load into 5xx answers to providers' callbacks."
)
CONCURRENCY_SCHEDULE = (
    "Started only by its one-minute schedule (60 s timeout: at most two at once); it cannot run away."
)
CURSOR_SECRET_ROTATION = (
    "Signs short-lived pagination cursors only (no credential to anything): replacing it ends open cursors and "
    "nothing else, so it is replaced by redeploying, not by a rotation function."
)
API_CACHE = "Answers are per API key and change with every call: a cache would serve stale or another tenant's data."


def skip(resource: CfnResource, check_id: str, reason: str) -> None:
    """Record a justified checkov skip on the resource itself (merged with any already there)."""
    existing = resource.get_metadata("checkov") or {}
    skips = [s for s in existing.get("skip", []) if s["id"] != check_id]
    resource.add_metadata("checkov", {**existing, "skip": [*skips, {"id": check_id, "comment": reason}]})


def _cfn_resources(root: IConstruct) -> Iterable[CfnResource]:
    return (c for c in root.node.find_all() if isinstance(c, CfnResource))


def skip_by_type(stack: Stack, protection: DataProtection) -> None:
    """The skips that follow from a resource's type: storage without the customer key, the bucket's."""
    for resource in _cfn_resources(stack):
        if not protection.customer_managed and resource.cfn_resource_type in NOT_WITHOUT_KEY:
            skip(resource, *NOT_WITHOUT_KEY[resource.cfn_resource_type])
        if resource.cfn_resource_type == "AWS::S3::Bucket":
            for check_id, reason in BUCKET.items():
                skip(resource, check_id, reason)


def skip_for_function(resource: CfnResource, *, sqs_consumer: bool, scheduled: bool, reserved: bool) -> None:
    """A Chalice function (AWS::Serverless::Function; SAM carries the metadata onto the Lambda function)."""
    for check_id, reason in FUNCTION.items():
        skip(resource, check_id, reason)
    if sqs_consumer:
        skip(resource, "CKV_AWS_116", DLQ_SQS)
    elif scheduled:
        skip(resource, "CKV_AWS_116", DLQ_SCHEDULE)
    else:
        skip(resource, "CKV_AWS_116", DLQ_API)
    if not reserved:
        if scheduled:
            skip(resource, "CKV_AWS_115", CONCURRENCY_SCHEDULE)
        elif not sqs_consumer:
            skip(resource, "CKV_AWS_115", CONCURRENCY_API)
        # an SQS consumer without reserved concurrency is a finding: give it one in .chalice/config.json


def harden_api(
    stack: Stack,
    api: CfnResource,
    *,
    name: str,
    protection: DataProtection,
    retention: logs.RetentionDays,
) -> logs.LogGroup:
    """Access log, tracing and a throttle on Chalice's `AWS::Serverless::Api` (SAM applies them to its stage)."""
    log_group = logs.LogGroup(
        stack,
        "ApiAccessLogs",
        log_group_name=f"/aws/apigateway/{name}",
        retention=retention,
        removal_policy=RemovalPolicy.DESTROY,
        **protection.log_group(),
    )
    api.add_property_override(
        "AccessLogSetting", {"DestinationArn": log_group.log_group_arn, "Format": ACCESS_LOG_FORMAT}
    )
    api.add_property_override("TracingEnabled", True)
    api.add_property_override(
        "MethodSettings",
        [
            {
                "ResourcePath": "/*",
                "HttpMethod": "*",
                "ThrottlingRateLimit": API_RATE_LIMIT,
                "ThrottlingBurstLimit": API_BURST_LIMIT,
            }
        ],
    )
    skip(api, "CKV_AWS_120", API_CACHE)
    if _flag(stack.node.try_get_context(API_ACCOUNT_ROLE_CONTEXT)):
        api.node.add_dependency(_api_gateway_account(stack))
    return log_group


def _flag(value: Any) -> bool:
    return value is None or str(value).lower() not in ("false", "0", "no")


def _api_gateway_account(stack: Stack) -> CfnResource:
    """API Gateway writes access logs with the region's account-wide role (one per account and region).

    Retained on deletion: another stack's API may log through it. `-c api_gateway_account_role=false`
    leaves an account's existing setting alone.
    """
    role = iam.Role(
        stack,
        "ApiGatewayLogsRole",
        description="Lets API Gateway write its access and execution logs in this account and region.",
        # No aws:SourceAccount condition: AWS's documented trust for this role has none, and a condition
        # API Gateway does not send would make the account setting fail at deploy.
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        inline_policies={
            "logs": iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        actions=[
                            "logs:CreateLogGroup",
                            "logs:CreateLogStream",
                            "logs:DescribeLogGroups",
                            "logs:DescribeLogStreams",
                            "logs:PutLogEvents",
                            "logs:GetLogEvents",
                            "logs:FilterLogEvents",
                        ],
                        resources=[
                            stack.format_arn(
                                service="logs",
                                resource="log-group",
                                resource_name="*",
                                arn_format=ArnFormat.COLON_RESOURCE_NAME,
                            )
                        ],
                    )
                ]
            )
        },
    )
    role.apply_removal_policy(RemovalPolicy.RETAIN)
    account = apigateway.CfnAccount(stack, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
    account.apply_removal_policy(RemovalPolicy.RETAIN)
    return account
