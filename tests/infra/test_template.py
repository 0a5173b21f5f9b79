"""The deployment as CloudFormation will see it: synthesized once (offline), then read as JSON.

Runs from .venv-infra (`make test-infra`); the dev venv has no aws_cdk and skips this module.
Assertions are made on the synthesized template and on its SAM expansion (`infra/expand.py`),
where Chalice's functions and SQS events are real Lambda resources and event source mappings.
The expected access per function is written out here on purpose, apart from
infra/permissions.py: widening a function's reach means changing both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aws_cdk", reason="infra tests run from .venv-infra: make test-infra")

from chalicelib.resources import (
    API_KEYS,
    BUCKET_NOTIFICATIONS,
    QUEUES,
    TABLES,
    dlq_name,
    queue_name,
    schedule_group_name,
    table_name,
)
from chalicelib.settings import Settings

pytestmark = pytest.mark.timeout(600)  # the module's one synthesis takes 20-40 s on two cores

ROOT = Path(__file__).resolve().parents[2]
STAGE = "dev"
SETTINGS = Settings(STAGE=STAGE, RESOURCE_PREFIX="batchcall", AWS_REGION="us-east-1")
CHALICE_FUNCTIONS = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][STAGE]["lambda_functions"]

# Which tables, queues (sent to) and bucket keys each function may reach: a reviewed copy of
# infra/permissions.py at the granularity a reviewer reasons in.
PURGED_PREFIXES = ("batches", "exports", "uploads", "inbox", "quarantine")  # a deleted batch's objects
TABLES_OF = {
    "api_handler": {
        "api-keys",
        "agents",
        "batches",
        "executions",
        "tenants",
        "webhook-deliveries",
        "callback-receipts",
        "numbers",
        "audit",
        "erasures",
        "leases",  # resume: the agent's month spend against its monthly budget
    },
    "dispatcher": {"agents", "batches", "executions", "webhook-deliveries", "erasures", "leases"},  # leases: co_key
    "dialer": {"agents", "batches", "executions", "leases", "numbers"},
    "provider_events": {"agents", "batches", "executions", "leases", "numbers"},  # agents: the monthly budget
    "ingest": {"agents", "batches", "numbers"},
    "webhook_sender": {"tenants", "webhook-deliveries", "batches", "leases"},  # leases: a batch's co-located counters
    "sweeper": {"batches", "executions", "leases"},
    "exporter": {"agents", "batches", "executions", "leases"},  # agents: the extraction fields' columns; leases: co_key
}
SENDS_TO = {  # every function that can end a call or change a batch's state also queues its webhooks
    "api_handler": {"control", "webhooks", "provider-events", "exports"},  # + providers' callbacks, background exports
    "dispatcher": {"control", "dial", "webhooks"},
    "dialer": {"dial", "provider-events", "webhooks"},
    "provider_events": {"dial", "webhooks"},
    "ingest": {"control", "webhooks"},
    "webhook_sender": {"webhooks", "webhooks-dlq"},
    "sweeper": {"control", "dial", "webhooks"},
    "exporter": set(),
}
SCHEDULES = {"api_handler", "dialer", "provider_events", "ingest", "webhook_sender", "sweeper"}
BUCKET_USERS = {"api_handler", "dispatcher", "ingest", "exporter"}
SCHEDULER_TARGETS = {"control", "dial", "webhooks"}
# Actions that have no resource-level permissions at all: the only ones allowed on "*".
NO_RESOURCE_LEVEL = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: frozenset[str]
    resources: tuple[str, ...]  # rendered: "<AWS::SQS::Queue batchcall-dev-dial>", ".../index/by_open", ...
    condition: dict[str, Any]


@dataclass
class Synth:
    template: dict[str, Any]  # as synthesized: what CloudFormation receives
    expanded: dict[str, Any]  # after the SAM transform

    def of_type(self, kind: str, expanded: bool = True) -> dict[str, dict[str, Any]]:
        resources = (self.expanded if expanded else self.template)["Resources"]
        return {k: v for k, v in resources.items() if v["Type"] == kind}

    def name_of(self, logical_id: str) -> str:
        resource = self.expanded["Resources"][logical_id]
        props = resource.get("Properties", {})
        for key in ("QueueName", "TableName", "Name", "FunctionName", "LogGroupName", "BucketName"):
            if key in props:
                return self.render(props[key])
        return logical_id

    def render(self, expr: Any) -> str:
        """An ARN expression as readable text, each referenced resource shown by type and name."""
        if isinstance(expr, str):
            return expr
        if isinstance(expr, dict) and "Ref" in expr:
            ref = expr["Ref"]
            pseudo = {"AWS::AccountId": "ACCOUNT", "AWS::Partition": "aws", "AWS::Region": "REGION"}
            return pseudo.get(ref) or self.name_of(ref)
        if isinstance(expr, dict) and "Fn::GetAtt" in expr:
            logical_id = expr["Fn::GetAtt"][0]
            return f"<{self.expanded['Resources'][logical_id]['Type']} {self.name_of(logical_id)}>"
        if isinstance(expr, dict) and "Fn::Join" in expr:
            separator, parts = expr["Fn::Join"]
            return str(separator).join(self.render(part) for part in parts)
        return json.dumps(expr, sort_keys=True)

    def statements(self, document: dict[str, Any]) -> list[Statement]:
        found = []
        for raw in document["Statement"]:
            actions = raw.get("Action", [])
            resources = raw.get("Resource", [])
            found.append(
                Statement(
                    raw["Effect"],
                    frozenset([actions] if isinstance(actions, str) else actions),
                    tuple(self.render(r) for r in (resources if isinstance(resources, list) else [resources])),
                    raw.get("Condition", {}),
                )
            )
        return found

    def all_policy_documents(self) -> list[dict[str, Any]]:
        """Every permission document in the expanded template (identity and resource policies)."""
        documents = []
        for resource in self.expanded["Resources"].values():
            props = resource.get("Properties", {})
            documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
            if "PolicyDocument" in props:
                documents.append(props["PolicyDocument"])
        return documents

    def function_ids(self) -> dict[str, str]:
        """Chalice function name by logical id (the handler names it; the REST API's is app.app)."""
        found = {}
        for logical_id, resource in self.of_type("AWS::Lambda::Function").items():
            handler = resource["Properties"]["Handler"].split(".", 1)[1]
            found[logical_id] = "api_handler" if handler == "app" else handler
        return found

    def functions(self) -> dict[str, dict[str, Any]]:
        return {name: self.expanded["Resources"][logical_id] for logical_id, name in self.function_ids().items()}

    def function_statements(self, name: str) -> list[Statement]:
        role_id = self.functions()[name]["Properties"]["Role"]["Fn::GetAtt"][0]
        role = self.expanded["Resources"][role_id]
        statements = [s for p in role["Properties"].get("Policies", []) for s in self.statements(p["PolicyDocument"])]
        for policy in self.of_type("AWS::IAM::Policy").values():  # attached separately, if any
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                statements += self.statements(policy["Properties"]["PolicyDocument"])
        return statements

    def queue_id(self, name: str) -> str:
        return next(k for k, v in self.of_type("AWS::SQS::Queue").items() if v["Properties"]["QueueName"] == name)


@pytest.fixture(scope="module")
def synth(synthesize: Callable[..., tuple[dict[str, Any], dict[str, Any]]]) -> Synth:
    return Synth(*synthesize())  # tests/infra/conftest.py: one synthesis per session


def short_names(rendered: tuple[str, ...], kind: str, suffix: str = "") -> set[str]:
    """Declared short names (`batches`, `dial`) of the resources of one type a statement names."""
    prefix = SETTINGS.name("")
    return {m.group(1) for r in rendered for m in re.finditer(rf"<{re.escape(kind)} {prefix}([\w-]+)>{suffix}", r)}


# --- queues ----------------------------------------------------------------------------------------------


def test_every_queue_has_its_dlq_redrive_visibility_and_encryption(synth: Synth) -> None:
    queues = synth.of_type("AWS::SQS::Queue")
    for queue in QUEUES:
        props = queues[synth.queue_id(queue_name(SETTINGS, queue))]["Properties"]
        dlq_id = synth.queue_id(dlq_name(SETTINGS, queue))
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": queue.max_receive_count,
        }
        assert props["VisibilityTimeout"] == queue.visibility_timeout
        assert props["SqsManagedSseEnabled"] is True
        assert queues[dlq_id]["Properties"]["SqsManagedSseEnabled"] is True
        assert queues[dlq_id]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_every_dlq_alarms_on_its_first_message(synth: Synth) -> None:
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and a["Properties"]["Threshold"] == 0
        and a["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
        and a["Properties"]["AlarmActions"]
    }
    assert alarmed == {synth.queue_id(dlq_name(SETTINGS, q)) for q in QUEUES}


def test_every_sqs_event_source_reports_batch_item_failures_from_this_stacks_queue(synth: Synth) -> None:
    mappings = list(synth.of_type("AWS::Lambda::EventSourceMapping").values())
    functions = synth.function_ids()
    consumed = {}
    for mapping in mappings:
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue_id = props["EventSourceArn"]["Fn::GetAtt"][0]  # a reference, so the queue exists first
        consumed[synth.name_of(queue_id)] = functions[props["FunctionName"]["Ref"]]
    assert consumed == {queue_name(SETTINGS, q): q.consumer for q in QUEUES if q.consumer}
    for event in (
        e
        for f in synth.of_type("AWS::Serverless::Function", expanded=False).values()
        for e in f["Properties"].get("Events", {}).values()
        if e["Type"] == "SQS"
    ):
        assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_consumers_with_reserved_concurrency_poll_no_faster(synth: Synth) -> None:
    for mapping in synth.of_type("AWS::Lambda::EventSourceMapping").values():
        function = synth.expanded["Resources"][mapping["Properties"]["FunctionName"]["Ref"]]
        reserved = function["Properties"].get("ReservedConcurrentExecutions")
        if reserved is not None:
            assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": max(2, reserved)}


# --- functions -------------------------------------------------------------------------------------------


def test_reserved_concurrency_comes_from_chalice_config(synth: Synth) -> None:
    functions = synth.functions()
    assert set(functions) == set(CHALICE_FUNCTIONS)
    assert "reserved_concurrency" in CHALICE_FUNCTIONS["dialer"]
    for name, config in CHALICE_FUNCTIONS.items():
        assert functions[name]["Properties"].get("ReservedConcurrentExecutions") == config.get("reserved_concurrency")
        assert functions[name]["Properties"]["Timeout"] == config["lambda_timeout"]
        assert functions[name]["Properties"]["MemorySize"] == config["lambda_memory_size"]


def test_functions_get_the_stage_settings_and_scheduler_role(synth: Synth) -> None:
    scheduler_role = next(
        k
        for k, v in synth.of_type("AWS::IAM::Role").items()
        if v["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
        == "scheduler.amazonaws.com"
    )
    for name, function in synth.functions().items():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["STAGE"] == STAGE and env["RESOURCE_PREFIX"] == "batchcall"
        assert env["AWS_ACCOUNT_ID"] == {"Ref": "AWS::AccountId"}
        assert env["SCHEDULER_ROLE_ARN"] == {"Fn::GetAtt": [scheduler_role, "Arn"]}
        assert function["Properties"]["FunctionName"] == SETTINGS.name(name.replace("_", "-"))
        assert env["SECRETS_BACKEND"] == "ssm"
        # Callback URLs: the API's own URL for the functions that place calls; the API reads it off requests
        if name == "api_handler":
            assert "PUBLIC_BASE_URL" not in env
        else:
            url = env["PUBLIC_BASE_URL"]["Fn::Sub"]
            assert url[0] == "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api", url


def test_only_the_api_gets_the_generated_cursor_secret(synth: Synth) -> None:
    [secret] = synth.of_type("AWS::SecretsManager::Secret")
    for name, function in synth.functions().items():
        env = function["Properties"]["Environment"]["Variables"]
        if name != "api_handler":
            assert "CURSOR_SECRET" not in env, name
            continue
        reference = json.dumps(env["CURSOR_SECRET"])
        assert "resolve:secretsmanager:" in reference and secret in reference, reference


def test_only_the_dialer_and_the_api_read_provider_credentials_and_only_under_the_secrets_path(synth: Synth) -> None:
    for name in synth.functions():
        ssm = [s for s in synth.function_statements(name) if any(a.startswith("ssm:") for a in s.actions)]
        if name not in ("dialer", "api_handler"):
            assert ssm == [], name
            continue
        [statement] = ssm
        assert statement.actions == {"ssm:GetParameter"}
        [resource] = statement.resources
        assert resource.endswith(f":parameter/batchcall/{STAGE}/secrets/*/*"), resource


def test_every_function_alarms_on_errors_and_logs_with_retention(synth: Synth) -> None:
    alarms = {
        a["Properties"]["Dimensions"][0]["Value"]: a["Properties"]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "Errors"
    }
    groups = {g["Properties"]["LogGroupName"]: g for g in synth.of_type("AWS::Logs::LogGroup").values()}
    for function in synth.functions().values():
        name = function["Properties"]["FunctionName"]
        alarm = alarms[name]
        assert (alarm["Namespace"], alarm["Statistic"], alarm["Period"]) == ("AWS/Lambda", "Sum", 300)
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert alarm["AlarmActions"]
        assert groups[f"/aws/lambda/{name}"]["Properties"]["RetentionInDays"] > 0


def test_the_api_is_named_per_stage_and_alarms_on_5xx(synth: Synth) -> None:
    ((_, api),) = synth.of_type("AWS::ApiGateway::RestApi").items()
    name = api["Properties"]["Name"]
    assert name == SETTINGS.name("api")
    alarms = [
        a["Properties"]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == "AWS/ApiGateway" and a["Properties"]["MetricName"] == "5XXError"
    ]
    assert [{d["Name"]: d["Value"] for d in a["Dimensions"]}["ApiName"] for a in alarms] == [name]


def test_api_gateways_own_answers_are_our_json_and_never_quote_the_request(synth: Synth) -> None:
    """Unknown paths and methods never reach Lambda: API Gateway answers them (403 MISSING_AUTHENTICATION_TOKEN)."""
    ((_, api),) = synth.of_type("AWS::ApiGateway::RestApi").items()
    responses = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]  # part of every deployment
    assert {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED"} <= set(responses)
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == "404"
    assert json.loads(missing["responseTemplates"]["application/json"])["code"] == "not_found"
    for response_type, response in responses.items():
        template = response["responseTemplates"]["application/json"]
        body = json.loads(template)  # fixed text: valid JSON as written
        assert set(body) == {"message", "code", "details"}, response_type
        assert "$" not in template, response_type  # no $context.error.message: it can echo the Authorization header
        assert response["responseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"
    assert "statusCode" not in responses["DEFAULT_4XX"] and "statusCode" not in responses["DEFAULT_5XX"]


# --- IAM -------------------------------------------------------------------------------------------------


def test_no_allow_statement_uses_wildcard_actions_or_resources(synth: Synth) -> None:
    for document in synth.all_policy_documents():
        for statement in synth.statements(document):
            if statement.effect != "Allow":
                continue  # the enforce-SSL denies are meant to cover everything
            for action in statement.actions:
                assert action != "*" and not action.endswith(":*"), statement
            if "*" in statement.resources:
                assert statement.actions <= NO_RESOURCE_LEVEL, statement
            # Chalice's shared policy (.chalice/policy-<stage>.json) must be gone: it names resources by pattern.
            assert not any(f"{SETTINGS.resource_prefix}-{STAGE}-*" in r for r in statement.resources), statement


def test_pass_role_is_only_the_scheduler_role_to_the_scheduler(synth: Synth) -> None:
    for document in synth.all_policy_documents():
        for statement in synth.statements(document):
            if "iam:PassRole" in statement.actions:
                assert statement.actions == {"iam:PassRole"}
                assert len(statement.resources) == 1 and statement.resources[0].startswith("<AWS::IAM::Role ")
                assert statement.condition == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


BATCH_READERS = ("api_handler", "ingest")  # create a batch: suppressed contacts are looked up 100 at a time
# Who reads the items behind the KEYS_ONLY indexes (by_batch_keys, by_agent_keys), 100 per BatchGetItem.
KEYS_ONLY_READ = {
    "api_handler": {"batches", "executions"},
    "dispatcher": {"executions"},
    "exporter": {"executions"},
    "dialer": {"leases"},  # not an index: the live-call shards' counters, read when a claim's own shard is full
    "provider_events": {"batches"},  # an agent's month spent: its batches (by_agent_keys) are paused
    "sweeper": {"executions"},  # rescheduled calls whose wake-up was lost (by_wake)
}


def test_each_function_reaches_only_its_tables(synth: Synth) -> None:
    dynamo_actions = {f"dynamodb:{a}" for a in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")}
    assert set(synth.functions()) == set(TABLES_OF)
    for name, expected in TABLES_OF.items():
        statements = [s for s in synth.function_statements(name) if any(a.startswith("dynamodb:") for a in s.actions)]
        reached = set().union(*(short_names(s.resources, "AWS::DynamoDB::Table") for s in statements))
        assert reached == expected, name
        for statement in statements:
            allowed = dynamo_actions
            if short_names(statement.resources, "AWS::DynamoDB::Table") == {"numbers"} and name in BATCH_READERS:
                allowed = dynamo_actions | {"dynamodb:BatchGetItem"}  # which of 100 contacts are suppressed
            if short_names(statement.resources, "AWS::DynamoDB::Table") <= KEYS_ONLY_READ.get(name, set()):
                allowed = allowed | {"dynamodb:BatchGetItem"}  # the items behind a KEYS_ONLY index's page
            if name == "dialer" and short_names(statement.resources, "AWS::DynamoDB::Table") == {"leases"}:
                allowed = allowed | {"dynamodb:ConditionCheckItem"}  # the claim's check of the agent's month
            if short_names(statement.resources, "AWS::DynamoDB::Table") <= {"batches", "leases"}:
                allowed = allowed | {"dynamodb:BatchGetItem"}  # a batch read with its counter or agent shards
            if name == "dispatcher":  # the purge walk's deletes: a deleted batch's executions and delivery log
                allowed = allowed | {"dynamodb:BatchWriteItem"}
            assert statement.actions <= allowed, (name, statement)  # never Scan or table operations
            if "dynamodb:BatchWriteItem" in statement.actions:
                assert short_names(statement.resources, "AWS::DynamoDB::Table") <= {"executions", "webhook-deliveries"}


def test_the_audit_log_is_append_only_for_every_function(synth: Synth) -> None:
    for name in synth.functions():
        for statement in synth.function_statements(name):
            if "audit" in short_names(statement.resources, "AWS::DynamoDB::Table"):
                assert statement.actions <= {"dynamodb:PutItem", "dynamodb:Query"}, (name, statement)


def test_the_dialer_cannot_touch_the_api_keys_or_the_bucket(synth: Synth) -> None:
    rendered = [r for s in synth.function_statements("dialer") for r in s.resources]
    assert not any(table_name(SETTINGS, API_KEYS) in r for r in rendered)
    assert not any("AWS::S3::Bucket" in r for r in rendered)


def test_indexes_are_queried_only_where_the_code_queries_them(synth: Synth) -> None:
    queried = {
        name: {
            (m.group(1), m.group(2))
            for s in synth.function_statements(name)
            for r in s.resources
            for m in re.finditer(rf"<AWS::DynamoDB::Table {SETTINGS.name('')}([\w-]+)>/index/(\w+)", r)
        }
        for name in synth.functions()
    }
    assert queried["sweeper"] == {
        ("executions", "by_open"),
        ("executions", "by_wake"),  # rescheduled calls whose wake-up was lost (services/wake_rearm.py)
        ("leases", "by_expiry"),
        ("batches", "by_status"),
    }
    assert queried["api_handler"] == {
        ("batches", "by_agent_keys"),
        ("executions", "by_batch_keys"),
        ("executions", "by_agent_keys"),
        ("numbers", "suppressed"),
        ("audit", "by_target"),
    }
    assert queried["ingest"] == {("agents", "by_id"), ("numbers", "suppressed")}
    # the cancel and purge walks of a stopped or deleted batch; an erasure's walk over one number's executions
    assert queried["dispatcher"] == {("executions", "by_batch_keys"), ("executions", "by_number_keys")}
    assert queried["provider_events"] == {("batches", "by_agent_keys")}  # pause_agent_if_spent
    assert not queried["dialer"]


def test_each_function_sends_only_to_its_queues_and_consumes_only_its_own(synth: Synth) -> None:
    consumers = {q.short: q.consumer for q in QUEUES}
    for name in synth.functions():
        statements = synth.function_statements(name)
        sends = [s for s in statements if "sqs:SendMessage" in s.actions]
        assert set().union(*(short_names(s.resources, "AWS::SQS::Queue") for s in sends)) == SENDS_TO[name], name
        receives = [s for s in statements if "sqs:ReceiveMessage" in s.actions]
        own = {short for short, consumer in consumers.items() if consumer == name}
        assert set().union(*(short_names(s.resources, "AWS::SQS::Queue") for s in receives)) == own, name


def test_bucket_access_is_per_prefix_and_only_ingest_and_the_purge_delete(synth: Synth) -> None:
    for name in synth.functions():
        s3 = [s for s in synth.function_statements(name) if any(a.startswith("s3:") for a in s.actions)]
        assert bool(s3) == (name in BUCKET_USERS), name
        for statement in s3:
            for resource in statement.resources:
                assert resource.startswith("<AWS::S3::Bucket "), resource
                if statement.actions != {"s3:ListBucket"}:
                    assert re.search(r">/[a-z]+/", resource), resource  # objects under a prefix, never the bucket
            if "s3:DeleteObject" in statement.actions:  # ingest: moved drops, files of deleted batches; the purge
                deletes = {"ingest": ("inbox", "uploads"), "dispatcher": PURGED_PREFIXES}.get(name, ())
                assert all(re.search(rf">/({'|'.join(deletes)})/", r) for r in statement.resources), (name, statement)


def test_only_the_api_and_the_exporter_reach_exports_and_only_to_write_abort_and_read(synth: Synth) -> None:
    for name in synth.functions():
        actions = {
            action
            for statement in synth.function_statements(name)
            for resource in statement.resources
            if resource.endswith(">/exports/*")
            for action in statement.actions
        }
        writes = {"s3:PutObject", "s3:AbortMultipartUpload"}
        expected = {"api_handler": writes | {"s3:GetObject"}, "exporter": writes, "dispatcher": {"s3:DeleteObject"}}
        assert actions == expected.get(name, set()), name  # the API presigns the GET; the exporter only writes;
        # the dispatcher's purge walk deletes a deleted batch's exports


def test_exports_expire_after_a_day(synth: Synth) -> None:
    ((_, bucket),) = synth.of_type("AWS::S3::Bucket").items()
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [r["ExpirationInDays"] for r in rules if r.get("Prefix") == "exports/"] == [1]


def test_scheduler_access(synth: Synth) -> None:
    group = schedule_group_name(SETTINGS)
    for name in synth.functions():
        statements = [s for s in synth.function_statements(name) if any(a.startswith("scheduler:") for a in s.actions)]
        assert bool(statements) == (name in SCHEDULES), name
        for statement in statements:
            assert statement.actions == {
                "scheduler:CreateSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
            }
            assert statement.resources == (f"arn:aws:scheduler:us-east-1:ACCOUNT:schedule/{group}/*",)
        assert any("iam:PassRole" in s.actions for s in synth.function_statements(name)) == (name in SCHEDULES)


def test_the_scheduler_role_is_assumed_by_the_scheduler_of_this_account_and_only_sends(synth: Synth) -> None:
    role = next(
        v
        for v in synth.of_type("AWS::IAM::Role").values()
        if v["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
        == "scheduler.amazonaws.com"
    )
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (statement,) = [s for p in role["Properties"]["Policies"] for s in synth.statements(p["PolicyDocument"])]
    assert statement.actions == {"sqs:SendMessage"}
    assert short_names(statement.resources, "AWS::SQS::Queue") == SCHEDULER_TARGETS
    groups = synth.of_type("AWS::Scheduler::ScheduleGroup")
    assert [g["Properties"]["Name"] for g in groups.values()] == [schedule_group_name(SETTINGS)]


# --- storage ---------------------------------------------------------------------------------------------


def test_the_bucket_blocks_public_access_is_encrypted_and_requires_tls(synth: Synth) -> None:
    ((bucket_id, bucket),) = synth.of_type("AWS::S3::Bucket").items()
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    (policy,) = [
        p for p in synth.of_type("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"]["Ref"] == bucket_id
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )
    assert bucket["DeletionPolicy"] == "Retain"


def test_browsers_may_post_presigned_uploads_and_get_presigned_exports_and_nothing_else(synth: Synth) -> None:
    # The dashboard uploads large files to a presigned POST URL and follows a large export's 303 to S3
    ((_, bucket),) = synth.of_type("AWS::S3::Bucket").items()
    (rule,) = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "POST"]
    assert "Content-Disposition" in rule["ExposedHeaders"]


def test_raw_uploads_expire_after_30_days(synth: Synth) -> None:
    ((_, bucket),) = synth.of_type("AWS::S3::Bucket").items()
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = {
        (r.get("Prefix"), tuple(t["Key"] for t in r.get("TagFilters", [])))
        for r in rules
        if r.get("ExpirationInDays") == 30
    }
    assert expiring == {("batches/", ("kind",)), ("uploads/", ()), ("inbox/", ())}
    assert all("*" not in (r.get("Prefix") or "") for r in rules)  # lifecycle prefixes are literal


def test_bucket_notifications_reach_their_queues_after_the_queue_policy_allows_s3(synth: Synth) -> None:
    ((_, bucket),) = synth.of_type("AWS::S3::Bucket").items()
    configured = {
        (c["Filter"]["S3Key"]["Rules"][0]["Value"], synth.name_of(c["Queue"]["Fn::GetAtt"][0]))
        for c in bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    }
    assert configured == {(prefix, queue_name(SETTINGS, q)) for prefix, q in BUCKET_NOTIFICATIONS}
    for prefix, queue in BUCKET_NOTIFICATIONS:
        queue_id = synth.queue_id(queue_name(SETTINGS, queue))
        policy_id, policy = next(
            (k, p)
            for k, p in synth.of_type("AWS::SQS::QueuePolicy").items()
            if {"Ref": queue_id} in p["Properties"]["Queues"]
        )
        assert policy_id in bucket["DependsOn"], prefix
        allow = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
        assert [s["Principal"] for s in allow] == [{"Service": "s3.amazonaws.com"}]


def test_tables_match_their_declaration(synth: Synth) -> None:
    tables = {t["Properties"]["TableName"]: t for t in synth.of_type("AWS::DynamoDB::Table").values()}
    assert set(tables) == {table_name(SETTINGS, t) for t in TABLES}
    for table in TABLES:
        resource = tables[table_name(SETTINGS, table)]
        props = resource["Properties"]
        keys = [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
        if table.sort_key:
            keys.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
        assert props["KeySchema"] == keys
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert resource["DeletionPolicy"] == "Retain"
        if table.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {"AttributeName": table.ttl_attribute, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in props
        indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {i.name for i in table.indexes}
        for index in table.indexes:
            assert indexes[index.name]["Projection"] == {"ProjectionType": index.projection}
            assert indexes[index.name]["KeySchema"][0] == {"AttributeName": index.partition_key, "KeyType": "HASH"}
        types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        assert all(types[name] == table.attribute_types.get(name, "S") for name in types)
