"""What operators and reviewers get from the stack: the dashboard, the alarm topic, the key switch, the API log.

Synthesized twice (tests/infra/conftest.py): as by default (AWS-managed keys, data retained) and with
`-c kms=customer -c retain_data=false`. Runs from .venv-infra (`make test-infra`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aws_cdk", reason="infra tests run from .venv-infra: make test-infra")

from chalicelib.domain.call_status import FINAL
from chalicelib.resources import QUEUES, TABLES, dlq_name, queue_name
from chalicelib.settings import Settings

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings(STAGE="dev", RESOURCE_PREFIX="batchcall", AWS_REGION="us-east-1")
FUNCTIONS = set(json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]["lambda_functions"])
# Storage whose encryption checks want a customer-managed key (the bucket's pass with SSE-S3)
KEYED_STORAGE = ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Logs::LogGroup", "AWS::SNS::Topic")
Templates = tuple[dict[str, Any], dict[str, Any]]


@pytest.fixture(scope="module")
def default(synthesize: Callable[..., Templates]) -> dict[str, Any]:
    return synthesize()[1]  # expanded: the Lambda functions and the API stage are real resources


@pytest.fixture(scope="module")
def customer(synthesize: Callable[..., Templates]) -> Templates:
    return synthesize(kms="customer", retain_data="false")


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def named(template: dict[str, Any], logical_id: str) -> str:
    props = template["Resources"][logical_id]["Properties"]
    return next(str(props[k]) for k in ("QueueName", "FunctionName", "TableName", "LogGroupName") if k in props)


def dashboard_widgets(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The dashboard's widgets, each reference in its body shown as the name of what it references."""
    ((_, board),) = of_type(template, "AWS::CloudWatch::Dashboard").items()
    parts = board["Properties"]["DashboardBody"]["Fn::Join"][1]
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        elif "Ref" in part:
            text += "REGION" if part["Ref"] == "AWS::Region" else named(template, part["Ref"])
        else:
            text += named(template, part["Fn::GetAtt"][0])
    widgets: list[dict[str, Any]] = json.loads(text)["widgets"]
    return widgets


def series(widget: dict[str, Any]) -> set[tuple[str, ...]]:
    """(namespace, metric, dimension value) of each line a widget draws."""
    return {(m[0], m[1], *(str(v) for v in m[3:-1:2])) for m in widget["properties"]["metrics"]}


def widget(widgets: list[dict[str, Any]], title_start: str) -> dict[str, Any]:
    (found,) = [w for w in widgets if w["properties"]["title"].startswith(title_start)]
    return found


def function_names() -> set[str]:
    return {SETTINGS.name(f.replace("_", "-")) for f in FUNCTIONS}


# --- the dashboard ---------------------------------------------------------------------------------------


def test_the_dashboard_shows_calls_by_outcome_latency_limits_and_webhooks(default: dict[str, Any]) -> None:
    widgets = dashboard_widgets(default)
    calls = series(widget(widgets, "Calls placed and finished"))
    assert calls == {("BatchCall", "CallsPlaced", "batchcall")} | {
        ("BatchCall", f"Outcome_{status.value}", "batchcall") for status in FINAL
    }
    latency = widget(widgets, "Dial latency")
    assert {m[-1]["stat"] for m in latency["properties"]["metrics"]} >= {"p50", "p90", "p99"}
    limits = widget(widgets, "Live-call limits")
    assert {
        ("BatchCall", "LiveCalls", "batchcall"),
        ("BatchCall", "CallsWaitingForSlot", "batchcall"),
        ("BatchCall", "CallsPaced", "batchcall"),
    } <= series(limits)
    assert ("AWS/Lambda", "ConcurrentExecutions", SETTINGS.name("dialer")) in series(limits)
    assert limits["properties"]["annotations"]["horizontal"][0]["value"] == 4  # the dialer's reserved concurrency
    assert series(widget(widgets, "Webhook deliveries")) == {
        ("BatchCall", "WebhooksDelivered", "batchcall"),
        ("BatchCall", "WebhookFailures", "batchcall"),
    }


def test_the_dashboard_shows_every_queue_dlq_and_function(default: dict[str, Any]) -> None:
    widgets = dashboard_widgets(default)
    queues = {queue_name(SETTINGS, q) for q in QUEUES}
    for title, metric in (
        ("Queue depth", "ApproximateNumberOfMessagesVisible"),
        ("Age of the oldest", "ApproximateAgeOfOldestMessage"),
    ):
        assert series(widget(widgets, title)) == {("AWS/SQS", metric, q) for q in queues}
    assert series(widget(widgets, "Dead-letter queue depth")) == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dlq_name(SETTINGS, q)) for q in QUEUES
    }
    for title, metric in (("Function errors", "Errors"), ("Function throttles", "Throttles")):
        assert series(widget(widgets, title)) == {("AWS/Lambda", metric, f) for f in function_names()}


def test_every_metric_the_code_counts_is_on_the_dashboard(default: dict[str, Any]) -> None:
    # Given every metric name the code passes to observability.count (literals; the f-string families drawn apart)
    source = "\n".join(p.read_text() for p in (ROOT / "chalicelib").rglob("*.py"))
    counted = {name for call in re.findall(r"\bcount\((.*)", source) for name in re.findall(r'(?<!f)"(\w+)"', call)}
    # When the dashboard is drawn
    drawn = {m[1] for w in dashboard_widgets(default) for m in w["properties"]["metrics"] if m[0] == "BatchCall"}
    # Then an operator sees each of them (a new count() without a graph fails here)
    assert counted - drawn == set()


def test_every_custom_metric_on_the_dashboard_is_one_the_code_counts(default: dict[str, Any]) -> None:
    # Names the code passes to observability.count: literals, and the f-string families Outcome_/ProviderFailure_
    source = "\n".join(p.read_text() for p in (ROOT / "chalicelib").rglob("*.py"))
    calls = re.findall(r"\bcount\((.*)", source)  # the rest of the line: `count("A" if ok else "B")` names both
    literal = {name for call in calls for name in re.findall(r'(?<!f)"(\w+)"', call)}
    families = set(re.findall(r'\bcount\(\s*f"(\w+_)\{', source))
    drawn = {m[1] for w in dashboard_widgets(default) for m in w["properties"]["metrics"] if m[0] == "BatchCall"}
    assert drawn
    invented = {m for m in drawn if m not in literal and not any(m.startswith(f) for f in families)}
    assert invented == set()


# --- alarms ----------------------------------------------------------------------------------------------


def test_every_alarm_goes_to_the_topic_an_email_parameter_subscribes_to(default: dict[str, Any]) -> None:
    ((topic_id, _),) = of_type(default, "AWS::SNS::Topic").items()
    alarms = of_type(default, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= len(FUNCTIONS) + len(QUEUES) + 1  # errors per function, DLQs, API 5xx
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    parameter = default["Parameters"]["AlarmEmail"]
    assert parameter["Type"] == "String" and parameter["Default"] == ""
    assert re.fullmatch(parameter["AllowedPattern"], "ops@example.com")
    assert re.fullmatch(parameter["AllowedPattern"], "")
    assert not re.fullmatch(parameter["AllowedPattern"], "not an address")
    ((_, subscription),) = of_type(default, "AWS::SNS::Subscription").items()
    assert subscription["Properties"] == {
        "Protocol": "email",
        "TopicArn": {"Ref": topic_id},
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert default["Conditions"][subscription["Condition"]] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }


# --- the API ---------------------------------------------------------------------------------------------


def test_the_api_logs_each_request_to_a_group_with_a_retention_traces_and_throttles(default: dict[str, Any]) -> None:
    ((_, stage),) = of_type(default, "AWS::ApiGateway::Stage").items()
    props = stage["Properties"]
    log_group = default["Resources"][props["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]]
    assert log_group["Properties"]["RetentionInDays"] > 0
    fields = json.loads(props["AccessLogSetting"]["Format"])
    assert {"requestId", "status", "ip"} <= set(fields) and "authorization" not in props["AccessLogSetting"][
        "Format"
    ].lower()
    assert props["TracingEnabled"] is True
    (throttle,) = props["MethodSettings"]
    assert throttle["ThrottlingRateLimit"] > 0 and throttle["ThrottlingBurstLimit"] >= throttle["ThrottlingRateLimit"]


# --- keys and retention ----------------------------------------------------------------------------------


def test_by_default_data_is_under_aws_managed_keys_and_retained(default: dict[str, Any]) -> None:
    assert of_type(default, "AWS::KMS::Key") == {}
    for table in of_type(default, "AWS::DynamoDB::Table").values():
        assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
        assert table["DeletionPolicy"] == "Retain"
    ((_, bucket),) = of_type(default, "AWS::S3::Bucket").items()
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"} and bucket["DeletionPolicy"] == "Retain"
    for queue in of_type(default, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True and "KmsMasterKeyId" not in queue["Properties"]
    for group in of_type(default, "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" not in group["Properties"]
    assert "kms:" not in json.dumps(of_type(default, "AWS::IAM::Role"))


def test_with_the_switch_one_customer_key_covers_tables_bucket_queues_logs_and_topic(customer: Templates) -> None:
    _, expanded = customer
    ((key_id, key),) = of_type(expanded, "AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True
    arn = {"Fn::GetAtt": [key_id, "Arn"]}
    tables = of_type(expanded, "AWS::DynamoDB::Table")
    assert len(tables) == len(TABLES)
    for table in tables.values():
        assert table["Properties"]["SSESpecification"] == {"KMSMasterKeyId": arn, "SSEEnabled": True, "SSEType": "KMS"}
    ((_, bucket),) = of_type(expanded, "AWS::S3::Bucket").items()
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"KMSMasterKeyID": arn, "SSEAlgorithm": "aws:kms"}
    queues = of_type(expanded, "AWS::SQS::Queue")
    assert len(queues) == 2 * len(QUEUES)
    for queue in queues.values():
        assert queue["Properties"]["KmsMasterKeyId"] == arn
    groups = of_type(expanded, "AWS::Logs::LogGroup")
    assert len(groups) == len(FUNCTIONS) + 1  # one per function, and the API's access log
    for group in groups.values():
        assert group["Properties"]["KmsKeyId"] == arn
    ((_, topic),) = of_type(expanded, "AWS::SNS::Topic").items()
    assert topic["Properties"]["KmsMasterKeyId"] == arn
    # The services that write for us may use it: Logs (its log groups only), CloudWatch alarms, S3 notifications
    allowed = {
        json.dumps(s["Principal"].get("Service"), sort_keys=True)
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if "Service" in s["Principal"]
    }
    assert allowed == {'"logs.us-east-1.amazonaws.com"', '"cloudwatch.amazonaws.com"', '"s3.amazonaws.com"'}


def test_with_the_switch_every_function_and_the_scheduler_may_use_the_key(customer: Templates) -> None:
    _, expanded = customer
    ((key_id, _),) = of_type(expanded, "AWS::KMS::Key").items()
    arn = {"Fn::GetAtt": [key_id, "Arn"]}
    functions = of_type(expanded, "AWS::Lambda::Function")
    assert {f["Properties"]["FunctionName"] for f in functions.values()} == function_names()
    for function in functions.values():
        role = expanded["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
        statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
        (kms,) = [s for s in statements if any(a.startswith("kms:") for a in s["Action"])]
        assert kms["Resource"] == arn
        assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(kms["Action"])
    scheduler_grants = [
        s
        for p in of_type(expanded, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "SchedulerRole" in json.dumps(p["Properties"]["Roles"])
    ]
    assert [(sorted(s["Action"]), s["Resource"]) for s in scheduler_grants] == [
        (["kms:Decrypt", "kms:GenerateDataKey*"], arn)
    ]


def test_retain_data_false_deletes_tables_bucket_and_key_with_the_stack(customer: Templates) -> None:
    _, expanded = customer
    for kind in ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key"):
        for resource in of_type(expanded, kind).values():
            assert resource["DeletionPolicy"] == "Delete", kind


# --- the scanner's skips ---------------------------------------------------------------------------------


def checkov_skips(template: dict[str, Any], kind: str) -> dict[str, list[str]]:
    return {
        logical_id: [s["id"] for s in r.get("Metadata", {}).get("checkov", {}).get("skip", [])]
        for logical_id, r in of_type(template, kind).items()
    }


def test_every_skip_has_a_reason(default: dict[str, Any], customer: Templates) -> None:
    for template in (default, *customer):
        for resource in template["Resources"].values():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]) and len(skip["comment"]) > 40, skip


def test_storage_skips_its_encryption_checks_only_without_the_customer_key(
    default: dict[str, Any], customer: Templates
) -> None:
    encryption_checks = {"CKV_AWS_119", "CKV_AWS_27", "CKV_AWS_158", "CKV_AWS_26"}
    for kind in KEYED_STORAGE:
        with_aws_keys = checkov_skips(default, kind)
        assert with_aws_keys and all(encryption_checks & set(ids) for ids in with_aws_keys.values()), kind
        assert not any(encryption_checks & set(ids) for ids in checkov_skips(customer[1], kind).values()), kind


def test_functions_carry_their_skips_through_the_sam_transform(default: dict[str, Any]) -> None:
    skips = checkov_skips(default, "AWS::Lambda::Function")
    assert len(skips) == len(FUNCTIONS)
    for ids in skips.values():
        assert {"CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"} <= set(ids)
    reserved = {
        k
        for k, f in of_type(default, "AWS::Lambda::Function").items()
        if "ReservedConcurrentExecutions" in f["Properties"]
    }
    assert all("CKV_AWS_115" not in skips[k] for k in reserved)  # a set limit is never skipped
