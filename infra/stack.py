"""BatchCallStack: every resource `chalicelib/resources.py` declares, then the Chalice app wired onto them.

Chalice's CDK construct packages the app (`chalice package`, SAM format) and includes the template;
everything Chalice cannot express is patched onto the included resources here: least-privilege
roles per function, the SQS event sources' queue references and `ReportBatchItemFailures`
(aws/chalice#2029), explicit function names with their log groups, and alarms.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from aws_cdk import CfnOutput, CfnResource, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.resources import (
    BUCKET_NOTIFICATIONS,
    EXPORTS_PREFIX,
    INBOX_PREFIX,
    QUEUES,
    TABLES,
    UPLOADS_PREFIX,
    Queue,
    Table,
    bucket_name,
    dlq_name,
    queue_name,
    schedule_group_name,
    table_name,
)
from chalicelib.settings import Settings

from . import hardening, monitoring, operations
from .permissions import ACCESS, SCHEDULER_TARGETS, Access
from .protection import DataProtection

# Raw uploads expire after RAW_UPLOAD_DAYS: those under uploads/ and inbox/ by prefix; `batches/<id>/raw`
# by tag (`BlobStore.put_raw` sets kind=raw), since lifecycle filters match literal prefixes and tags,
# never wildcards.
RAW_UPLOAD_TAG = ("kind", "raw")
RAW_UPLOAD_DAYS = 30
EXPORT_DAYS = 1  # a large CSV export is fetched through a 5-minute URL; asking again makes a fresh one
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# API Gateway's own answers -> (status, or None to keep its own; code; message). Its default 4xx/5xx
# cover the other types (their status is kept); the named ones get our codes.
GATEWAY_RESPONSES: dict[str, tuple[int | None, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "no route matches this path and method"),
    "RESOURCE_NOT_FOUND": (404, "not_found", "no route matches this path and method"),
    "UNAUTHORIZED": (None, "unauthorized", "missing or invalid API key"),
    "ACCESS_DENIED": (None, "forbidden", "the request was refused"),
    "BAD_REQUEST_BODY": (None, "bad_request", "the request body was refused"),
    "BAD_REQUEST_PARAMETERS": (None, "bad_request", "the request parameters were refused"),
    "REQUEST_TOO_LARGE": (None, "payload_too_large", "the request is larger than API Gateway accepts (10 MB)"),
    "UNSUPPORTED_MEDIA_TYPE": (None, "unsupported_media_type", "unsupported content type"),
    "THROTTLED": (None, "too_many_requests", "too many requests: retry later"),
    "QUOTA_EXCEEDED": (None, "too_many_requests", "request quota exceeded: retry later"),
    "INTEGRATION_TIMEOUT": (None, "timeout", "the request took longer than API Gateway's 29 s"),
    "DEFAULT_4XX": (None, "bad_request", "the request was refused before it reached the service"),
    "DEFAULT_5XX": (None, "internal_error", "the service failed to answer: retry later"),
}
ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def pascal(name: str) -> str:
    """Construct ids from declared short names: `api-keys` -> `ApiKeys`."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-") if part)


@dataclass(frozen=True)
class ChaliceFunction:
    """One Lambda function as `chalice package` wrote it into the SAM template."""

    name: str  # Chalice's name: api_handler, dispatcher, ...
    logical_id: str
    role_id: str
    timeout: int
    traced: bool  # `"xray": true` in .chalice/config.json: Tracing Active
    sqs_events: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id -> its Properties

    @classmethod
    def all_in(cls, sam: dict[str, Any]) -> list[ChaliceFunction]:
        found = []
        for logical_id, resource in sam["Resources"].items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            props = resource["Properties"]
            handler = props["Handler"].split(".", 1)[1]  # app.<handler>; the REST API's is app.app
            events = props.get("Events", {})
            found.append(
                cls(
                    name="api_handler" if handler == "app" else handler,
                    logical_id=logical_id,
                    role_id=props["Role"]["Fn::GetAtt"][0],
                    timeout=int(props["Timeout"]),
                    traced=props.get("Tracing") == "Active",
                    sqs_events={k: v["Properties"] for k, v in events.items() if v["Type"] == "SQS"},
                )
            )
        return found


class BatchCallStack(Stack):
    """One stage of the service. The stack's construct id must be the Chalice stage (see `__init__`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        project_dir: Path,
        alarm_email: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # Chalice's construct names its stage after its scope (`scope.to_string()`, the construct path):
        # only when that is the stage in .chalice/config.json do per-function memory, timeouts and
        # reserved concurrency apply.
        if self.to_string() != settings.stage:
            raise ValueError(f"the stack's construct id must be the stage {settings.stage!r}, not {self.to_string()!r}")
        chalice_stages = json.loads((project_dir / ".chalice" / "config.json").read_text())["stages"]
        if settings.stage not in chalice_stages:
            raise ValueError(f"stage {settings.stage!r} is not in .chalice/config.json; add it there first")
        self.settings = settings
        self.function_config: dict[str, dict[str, Any]] = chalice_stages[settings.stage].get("lambda_functions", {})

        self.protection = DataProtection(self, name=settings.name("data"))  # context: kms, retain_data
        self.alarm_topic = sns.Topic(
            self, "AlarmTopic", display_name=settings.name("alarms"), enforce_ssl=True, **self.protection.topic()
        )
        monitoring.alarm_email(self, self.alarm_topic, alarm_email)
        self.tables = {table.short: self._table(table) for table in TABLES}
        self.bucket = self._bucket()
        self.dlqs: dict[str, sqs.Queue] = {}
        self.queues = {queue.short: self._queue(queue) for queue in QUEUES}
        self._bucket_notifications()
        self.schedule_group = scheduler.CfnScheduleGroup(self, "ScheduleGroup", name=schedule_group_name(settings))
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            description="Assumed by EventBridge Scheduler to deliver one-time schedules to the service's queues.",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
            ),
            inline_policies={
                "send": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["sqs:SendMessage"],
                            resources=[self.queues[q.short].queue_arn for q in SCHEDULER_TARGETS],
                        )
                    ]
                )
            },
        )
        self.protection.grant_send(self.scheduler_role)
        # CURSOR_SECRET: generated once and kept across deploys, so pagination cursors cannot be forged.
        self.cursor_secret = secretsmanager.Secret(
            self,
            "CursorSecret",
            secret_name=settings.name("cursor-secret"),
            description="Signs the API's pagination cursors (CURSOR_SECRET); replacing it only ends open cursors.",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
            removal_policy=RemovalPolicy.DESTROY,
            **self.protection.secret(),
        )
        secret_resource = cast(CfnResource, self.cursor_secret.node.default_child)
        hardening.skip(secret_resource, "CKV2_AWS_57", hardening.CURSOR_SECRET_ROTATION)
        self.chalice, sam = self._chalice_app(project_dir)
        functions = ChaliceFunction.all_in(sam)
        if {f.name for f in functions} != set(ACCESS):
            raise ValueError(
                f"infra/permissions.py declares {sorted(ACCESS)} but the app has {sorted(f.name for f in functions)}:"
                " give every function its permissions"
            )
        for function in functions:
            self._wire(function)
        self._api_alarm(sam)
        self._gateway_responses(sam)
        operations.finish(self, sam, functions)  # API access log and throttle, checkov skips, dashboard

        CfnOutput(self, "BucketName", value=self.bucket.bucket_name)
        CfnOutput(self, "SchedulerRoleArn", value=self.scheduler_role.role_arn)
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)

    # --- resources declared in chalicelib/resources.py -------------------------------------------

    def _table(self, table: Table) -> dynamodb.Table:
        def attribute(name: str) -> dynamodb.Attribute:
            return dynamodb.Attribute(name=name, type=ATTRIBUTE_TYPES[table.attribute_types.get(name, "S")])

        construct = dynamodb.Table(
            self,
            f"{pascal(table.short)}Table",
            table_name=table_name(self.settings, table),
            partition_key=attribute(table.partition_key),
            sort_key=attribute(table.sort_key) if table.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=table.ttl_attribute,
            **self.protection.table(),  # key and removal policy
        )
        for index in table.indexes:
            construct.add_global_secondary_index(
                index_name=index.name,
                partition_key=attribute(index.partition_key),
                sort_key=attribute(index.sort_key) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType(index.projection),
            )
        return construct

    def _bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "DataBucket",
            bucket_name=bucket_name(self.settings),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            **self.protection.bucket(),  # key and removal policy
            # The dashboard's browser POSTs large files to presigned upload URLs and reads large exports
            # from presigned GET URLs: other origins than the API's. The signature is the credential
            # (no cookies), so any origin may send them; nothing else is allowed.
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET],
                    allowed_origins=["*"],
                    allowed_headers=["*"],
                    exposed_headers=["Content-Disposition", "ETag"],
                    max_age=3600,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-raw-batch-files",
                    prefix="batches/",
                    tag_filters=dict([RAW_UPLOAD_TAG]),
                    expiration=Duration.days(RAW_UPLOAD_DAYS),
                ),
                *(
                    s3.LifecycleRule(
                        id=f"expire-{prefix.strip('/')}", prefix=prefix, expiration=Duration.days(RAW_UPLOAD_DAYS)
                    )
                    for prefix in (UPLOADS_PREFIX, INBOX_PREFIX)
                ),
                s3.LifecycleRule(id="expire-exports", prefix=EXPORTS_PREFIX, expiration=Duration.days(EXPORT_DAYS)),
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
            ],
        )

    def _queue(self, queue: Queue) -> sqs.Queue:
        dlq = sqs.Queue(
            self,
            f"{pascal(queue.short)}Dlq",
            queue_name=dlq_name(self.settings, queue),
            retention_period=Duration.days(14),
            enforce_ssl=True,
            **self.protection.queue(),
        )
        construct = sqs.Queue(
            self,
            f"{pascal(queue.short)}Queue",
            queue_name=queue_name(self.settings, queue),
            visibility_timeout=Duration.seconds(queue.visibility_timeout),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=queue.max_receive_count),
            enforce_ssl=True,
            **self.protection.queue(),
        )
        self.dlqs[queue.short] = dlq
        self._alarm(
            f"{pascal(queue.short)}DlqNotEmpty",
            dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
            f"Messages of {queue_name(self.settings, queue)} failed {queue.max_receive_count} times and were "
            f"dead-lettered: inspect them in {dlq_name(self.settings, queue)}, fix, then redrive.",
        )
        return construct

    def _bucket_notifications(self) -> None:
        """S3 -> SQS for the prefixes `resources.BUCKET_NOTIFICATIONS` declares.

        Native bucket configuration rather than CDK's notifications custom resource (whose role needs
        `Resource: *`). S3 checks each destination with a test event when the bucket is configured,
        so the queue policies come first.
        """
        if not BUCKET_NOTIFICATIONS:
            return
        bucket_arn = self.format_arn(service="s3", region="", account="", resource=bucket_name(self.settings))
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        configurations = []
        for declared in dict.fromkeys(queue for _, queue in BUCKET_NOTIFICATIONS):
            queue = self.queues[declared.short]
            added = queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions={
                        "ArnEquals": {"aws:SourceArn": bucket_arn},
                        "StringEquals": {"aws:SourceAccount": self.account},
                    },
                )
            )
            assert added.policy_dependable is not None
            cfn_bucket.node.add_dependency(added.policy_dependable)
        for prefix, declared in BUCKET_NOTIFICATIONS:
            configurations.append(
                s3.CfnBucket.QueueConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    queue=self.queues[declared.short].queue_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=prefix)]
                        )
                    ),
                )
            )
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=configurations
        )

    # --- the Chalice app ----------------------------------------------------------------------------

    def _chalice_app(self, project_dir: Path) -> tuple[Chalice, dict[str, Any]]:
        """Package the app and include its SAM template.

        The construct writes `chalice.out/` into the working directory; its files are read (and the
        deployment zip staged into the cloud assembly) during construction, so a scratch directory does.
        """
        env = {
            "STAGE": self.settings.stage,
            "RESOURCE_PREFIX": self.settings.resource_prefix,
            "SECRETS_BACKEND": "ssm",
        }
        with tempfile.TemporaryDirectory(prefix="chalice-") as scratch, contextlib.chdir(scratch):
            app = Chalice(
                self,
                "App",
                source_dir=str(project_dir),
                stage_config={"autogen_policy": False, "environment_variables": env},
            )
            sam = json.loads((Path(app._sam_package_dir) / "sam.json").read_text())  # chalice==1.34's layout
        return app, sam

    def _default_api_url(self) -> str:
        api_id = self.chalice.get_resource("RestAPI").ref
        return Fn.sub("https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api", {"Api": api_id})

    def _function_name(self, function: ChaliceFunction) -> str:
        return self.settings.name(function.name.replace("_", "-"))

    def _wire(self, function: ChaliceFunction) -> None:
        cfn_function = self.chalice.get_resource(function.logical_id)
        name = self._function_name(function)
        cfn_function.add_property_override("FunctionName", name)
        # Created before the function, so Lambda never creates it (without retention) on a first invocation.
        log_group = logs.LogGroup(
            self,
            f"{function.logical_id}Logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
            **self.protection.log_group(),
        )
        cfn_function.node.add_dependency(log_group)

        reserved = self.function_config.get(function.name, {}).get("reserved_concurrency")
        if reserved is not None:
            cfn_function.add_property_override("ReservedConcurrentExecutions", int(reserved))
        for event_id, event in function.sqs_events.items():
            self._wire_sqs_event(function, cfn_function, event_id, event, reserved)

        self.chalice.add_environment_variable("AWS_ACCOUNT_ID", self.account, function.logical_id)
        self.chalice.add_environment_variable("SCHEDULER_ROLE_ARN", self.scheduler_role.role_arn, function.logical_id)
        public_url = self.node.try_get_context("public_base_url")
        if public_url:  # a custom domain: every function builds and checks callback URLs with it
            self.chalice.add_environment_variable("PUBLIC_BASE_URL", public_url, function.logical_id)
        elif function.name != "api_handler":  # the API reads its URL off each request (no dependency cycle)
            self.chalice.add_environment_variable("PUBLIC_BASE_URL", self._default_api_url(), function.logical_id)
        if function.name == "api_handler":  # the only function that pages: a dynamic reference, resolved at deploy
            self.chalice.add_environment_variable(
                "CURSOR_SECRET", self.cursor_secret.secret_value.unsafe_unwrap(), function.logical_id
            )

        # Replaces Chalice's role policy (the shared .chalice/policy-<stage>.json) with this function's own.
        statements = [
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        ]
        statements += self._consume_statements(function)
        statements += self._access_statements(ACCESS[function.name])
        statements += self.protection.function_statements()  # the customer-managed key, if any
        if function.traced:  # X-Ray has no resource-level permissions: "*" is the only resource there is
            statements.append(
                iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
            )
        document = iam.PolicyDocument(statements=statements)
        self.chalice.get_resource(function.role_id).add_property_override(
            "Policies", [{"PolicyName": f"{name}-least-privilege", "PolicyDocument": document}]
        )

        errors = cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions_map={"FunctionName": name},
            statistic="Sum",
            period=Duration.minutes(5),
        )
        self._alarm(
            f"{function.logical_id}Errors",
            errors,
            f"{name} raised (or timed out) in the last 5 minutes. For a queue consumer that means a whole "
            "batch failed and will be retried; see its log group.",
        )

    def _wire_sqs_event(
        self,
        function: ChaliceFunction,
        cfn_function: CfnResource,
        event_id: str,
        event: dict[str, Any],
        reserved: int | None,
    ) -> None:
        """Point the event source at this stack's queue (so it is created first) and honour batchItemFailures."""
        queue_ref = event["Queue"]
        arn = queue_ref["Fn::Sub"] if isinstance(queue_ref, dict) else queue_ref
        name = arn.rsplit(":", 1)[-1]
        declared = {queue_name(self.settings, q): q for q in QUEUES}
        if name not in declared:
            raise ValueError(f"{function.name} consumes {name!r}, which chalicelib/resources.py does not declare")
        queue = declared[name]
        if queue.consumer != function.name:
            raise ValueError(f"{name} declares consumer {queue.consumer!r} but {function.name!r} consumes it")
        if queue.visibility_timeout < function.timeout:
            raise ValueError(f"{name}'s visibility timeout is below {function.name}'s timeout ({function.timeout} s)")
        prefix = f"Events.{event_id}.Properties"
        cfn_function.add_property_override(f"{prefix}.Queue", self.queues[queue.short].queue_arn)
        cfn_function.add_property_override(f"{prefix}.FunctionResponseTypes", ["ReportBatchItemFailures"])
        if reserved is not None and "ScalingConfig" not in event:
            # Polling no faster than the reserved concurrency: throttled invocations would otherwise
            # count as receives and push waiting messages into the DLQ. (SQS sources allow 2..1000.)
            cfn_function.add_property_override(f"{prefix}.ScalingConfig", {"MaximumConcurrency": max(2, reserved)})

    # --- per-function policy ------------------------------------------------------------------------

    def _consume_statements(self, function: ChaliceFunction) -> list[iam.PolicyStatement]:
        consumed = [self.queues[q.short].queue_arn for q in QUEUES if q.consumer == function.name]
        if not consumed:
            return []
        return [
            iam.PolicyStatement(
                actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],  # what the poller uses
                resources=consumed,
            )
        ]

    def _access_statements(self, access: Access) -> list[iam.PolicyStatement]:
        statements = []
        for table, actions in access.items:
            statements.append(
                iam.PolicyStatement(actions=list(actions), resources=[self.tables[table.short].table_arn])
            )
        if access.indexes:
            statements.append(
                iam.PolicyStatement(
                    actions=["dynamodb:Query"],
                    resources=[f"{self.tables[t.short].table_arn}/index/{index}" for t, index in access.indexes],
                )
            )
        by_actions: dict[tuple[str, ...], list[str]] = {}
        for pattern, actions in access.objects:
            by_actions.setdefault(actions, []).append(self.bucket.arn_for_objects(pattern))
        statements += [iam.PolicyStatement(actions=list(a), resources=r) for a, r in by_actions.items()]
        if access.list_bucket:
            statements.append(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn]))
        sends = [self.queues[q.short].queue_arn for q in access.sends]
        sends += [self.dlqs[q.short].queue_arn for q in access.dead_letters]
        if sends:
            statements.append(iam.PolicyStatement(actions=["sqs:GetQueueUrl", "sqs:SendMessage"], resources=sends))
        if access.secrets:
            path = self.settings.secret_path("*", "*").removeprefix("/")
            statements.append(
                iam.PolicyStatement(
                    actions=["ssm:GetParameter"],
                    resources=[self.format_arn(service="ssm", resource="parameter", resource_name=path)],
                )
            )
        if access.schedules:
            statements.append(
                iam.PolicyStatement(
                    actions=["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
                    resources=[
                        self.format_arn(
                            service="scheduler", resource="schedule", resource_name=f"{self.schedule_group.ref}/*"
                        )
                    ],
                )
            )
            statements.append(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[self.scheduler_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
                )
            )
        return statements

    def _api_alarm(self, sam: dict[str, Any]) -> None:
        """5xx answers of the REST API: Chalice turns a route's exception into a 500, which Lambda counts as a success.

        The API is named per stage (Chalice names it after the app), so each stage's alarm sees only its own.
        """
        ((api_id, api),) = ((k, v) for k, v in sam["Resources"].items() if v["Type"] == "AWS::Serverless::Api")
        name = self.settings.name("api")
        self.chalice.get_resource(api_id).add_property_override("Name", name)
        errors = cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            dimensions_map={"ApiName": name, "Stage": api["Properties"]["StageName"]},
            statistic="Sum",
            period=Duration.minutes(5),
        )
        self._alarm("Api5xx", errors, f"{name} answered 5xx in the last 5 minutes; see the api-handler's log group.")

    def _gateway_responses(self, sam: dict[str, Any]) -> None:
        """API Gateway's own answers (an unknown path or method, throttling, a Lambda failure) in our JSON shape.

        A REST API answers a path or method it has no route for itself, before Lambda, with 403
        MISSING_AUTHENTICATION_TOKEN (unknown paths and unknown methods alike: it cannot answer 405):
        that becomes 404 `not_found`. Templates are fixed text: `$context.error.message` can quote the
        Authorization header. Set through SAM's `GatewayResponses`, which writes them into the API's
        definition, so every deployment of the stage carries them (a separate
        AWS::ApiGateway::GatewayResponse needs a redeployment to take effect).
        """
        ((api_id, _),) = ((k, v) for k, v in sam["Resources"].items() if v["Type"] == "AWS::Serverless::Api")
        responses = {
            response_type: {
                **({"StatusCode": str(status)} if status else {}),
                "ResponseTemplates": {
                    "application/json": json.dumps({"message": message, "code": code, "details": []})
                },
                "ResponseParameters": {"Headers": {"Content-Type": "'application/json'"}},
            }
            for response_type, (status, code, message) in GATEWAY_RESPONSES.items()
        }
        self.chalice.get_resource(api_id).add_property_override("GatewayResponses", responses)

    def _alarm(self, construct_id: str, metric: cloudwatch.Metric, description: str) -> None:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_description=description,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))
