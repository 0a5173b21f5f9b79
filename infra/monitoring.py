"""The operator's view: one CloudWatch dashboard per stage, and who the alarms e-mail.

Every custom metric here is one the code emits (`chalicelib/observability.count`: CloudWatch EMF,
namespace `BatchCall`, dimension `service=batchcall`); the rest are AWS's own (Lambda, SQS, API
Gateway). The custom metrics carry no stage dimension: two stages in one account share them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import CfnCondition, CfnParameter, Duration, Fn, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from chalicelib.domain.call_status import FINAL
from chalicelib.providers.base import Failure

NAMESPACE = "BatchCall"  # chalicelib/observability.py: Metrics(namespace=..., service=...)
SERVICE = "batchcall"
MINUTE = Duration.minutes(1)
WIDTH = 8  # three widgets a row (the grid is 24 wide)
HEIGHT = 6

# Custom metrics the dashboard reads, by the code that counts them.
PLACED = "CallsPlaced"  # services/dialing.py, once per call the provider accepted
DIAL_LATENCY = "DialLatency"  # services/dialing.py, ms the provider took to accept a call
OUTCOMES = {
    status.value: f"Outcome_{status.value}" for status in FINAL
}  # services/attempt_end.py, per finished attempt
LIVE_CALLS = "LiveCalls"  # services/sweeping.py, leases held (live calls, all agents), once a minute
WAITING_FOR_SLOT = "CallsWaitingForSlot"  # services/dialing.py, a dial handed back: its agent or batch is at its cap
PACED = "CallsPaced"  # services/dialing.py, a dial handed back: its provider account's calls per second
PROVIDER_FAILURES = {kind.value: f"ProviderFailure_{kind.value}" for kind in Failure}  # services/dialing.py
WEBHOOKS_DELIVERED = "WebhooksDelivered"  # services/webhook_delivery.py
WEBHOOK_FAILURES = "WebhookFailures"  # services/webhook_delivery.py, an attempt that failed (retried or dead-lettered)
CALLBACKS_REFUSED = "CallbacksRefused"  # services/callbacks.py, a provider callback with a bad signature
# The safety nets at work (each is a fault the service absorbed; a sustained rise says where to look).
RECOVERIES = {
    "SweepFailures": "sweep listings failed (retried next sweep)",  # services/sweeping.py
    "WaitCopiesDropped": "stale slot-wait copies dropped",  # services/dial_waits.py
    "ClaimsResumed": "claims resumed after a crash",  # services/dialing.py
    "PlacementsUnknown": "placements of unknown outcome (kept, never redialled)",  # services/dialing.py
    "CallbacksReplayed": "provider callbacks replayed (ignored)",  # services/callbacks.py
    "DialsHandedBack": "dials handed back near the function timeout",  # services/dialing.py
    "WakeUpsRecovered": "rescheduled calls woken by their redelivered dial",  # services/dialing.py
    "WakeUpsRearmed": "lost wake-ups of rescheduled calls re-armed",  # services/wake_rearm.py
}
# Consent and calling rules at work.
RULES = {
    "CallsSuppressed": "calls not placed: number suppressed",  # services/number_guard.py
    "CallsContactLimited": "calls not placed: contact limit",  # services/number_guard.py
    "CallOptOuts": "opt-outs taken during calls",  # services/suppressions.py
    "NumbersSuppressed": "numbers added to suppression lists",  # services/suppressions.py
}
INGEST_ROWS = "IngestRows"  # services/ingest.py, CSV rows read
CUSTOM_METRICS = (
    PLACED,
    DIAL_LATENCY,
    *OUTCOMES.values(),
    LIVE_CALLS,
    WAITING_FOR_SLOT,
    PACED,
    *PROVIDER_FAILURES.values(),
    WEBHOOKS_DELIVERED,
    WEBHOOK_FAILURES,
    CALLBACKS_REFUSED,
    *RECOVERIES,
    *RULES,
    INGEST_ROWS,
)


def custom(name: str, label: str, statistic: str = "Sum") -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE},
        statistic=statistic,
        period=MINUTE,
        label=label,
    )


def alarm_email(stack: Stack, topic: sns.ITopic, default: str | None) -> CfnParameter:
    """`AlarmEmail`: a deploy parameter (`cdk deploy --parameters AlarmEmail=ops@example.com`); empty subscribes no one.

    AWS sends the address a confirmation mail first; alarms reach it once confirmed.
    """
    email = CfnParameter(
        stack,
        "AlarmEmail",
        type="String",
        default=default or "",
        allowed_pattern=r"^$|^[^\s@]+@[^\s@]+\.[^\s@]+$",
        constraint_description="an e-mail address, or empty for none",
        description="E-mail address subscribed to the alarm topic (empty: none)",
    )
    wanted = CfnCondition(stack, "HasAlarmEmail", expression=Fn.condition_not(Fn.condition_equals(email, "")))
    subscription = sns.CfnSubscription(
        stack, "AlarmEmailSubscription", topic_arn=topic.topic_arn, protocol="email", endpoint=email.value_as_string
    )
    subscription.cfn_options.condition = wanted
    return email


def dashboard(
    stack: Stack,
    *,
    name: str,
    functions: Mapping[str, str],  # Chalice name -> Lambda function name
    reserved: Mapping[str, int],  # Chalice name -> reserved concurrency, where set
    queues: Mapping[str, sqs.IQueue],  # declared short name -> queue
    dlqs: Mapping[str, sqs.IQueue],
    api_name: str,
    api_stage: str,
) -> cloudwatch.Dashboard:
    board = cloudwatch.Dashboard(stack, "Dashboard", dashboard_name=name, default_interval=Duration.hours(3))
    board.add_widgets(
        _graph(
            "Calls placed and finished per minute, by outcome",
            [custom(PLACED, "placed"), *(custom(m, status) for status, m in sorted(OUTCOMES.items()))],
            stacked=False,
        ),
        _graph(
            "Dial latency (ms the provider took to accept a call)",
            [custom(DIAL_LATENCY, p, statistic=p) for p in ("p50", "p90", "p99", "Maximum")],
        ),
        _live_calls(functions, reserved),
    )
    board.add_widgets(
        _graph(
            "Webhook deliveries and failures per minute",
            [custom(WEBHOOKS_DELIVERED, "delivered"), custom(WEBHOOK_FAILURES, "failed attempts")],
        ),
        _graph(
            "Placement failures and refused callbacks per minute",
            [
                *(custom(m, f"provider {kind}") for kind, m in sorted(PROVIDER_FAILURES.items())),
                custom(CALLBACKS_REFUSED, "callbacks refused (signature)"),
            ],
        ),
        _graph(
            f"API {api_name}: requests and errors per minute",
            [
                cloudwatch.Metric(
                    namespace="AWS/ApiGateway",
                    metric_name=metric,
                    dimensions_map={"ApiName": api_name, "Stage": api_stage},
                    statistic="Sum",
                    period=MINUTE,
                    label=label,
                )
                for metric, label in (("Count", "requests"), ("4XXError", "4xx"), ("5XXError", "5xx"))
            ],
        ),
    )
    board.add_widgets(
        _graph(
            "Queue depth (visible messages)",
            [
                q.metric_approximate_number_of_messages_visible(period=MINUTE, label=s)
                for s, q in sorted(queues.items())
            ],
            statistic="Maximum",
        ),
        _graph(
            "Age of the oldest message (s)",
            [q.metric_approximate_age_of_oldest_message(period=MINUTE, label=s) for s, q in sorted(queues.items())],
            statistic="Maximum",
        ),
        _graph(
            "Dead-letter queue depth (alarmed above 0)",
            [q.metric_approximate_number_of_messages_visible(period=MINUTE, label=s) for s, q in sorted(dlqs.items())],
            statistic="Maximum",
        ),
    )
    board.add_widgets(
        _graph("Function errors per minute (alarmed)", _lambda("Errors", functions)),
        _graph("Function throttles per minute", _lambda("Throttles", functions)),
        _graph("Function duration p90 (ms)", _lambda("Duration", functions, statistic="p90")),
    )
    board.add_widgets(
        _graph("Recovery at work per minute (faults absorbed)", [custom(m, label) for m, label in RECOVERIES.items()]),
        _graph("Consent and calling rules per minute", [custom(m, label) for m, label in RULES.items()]),
        _graph("CSV rows ingested per minute", [custom(INGEST_ROWS, "rows")]),
    )
    return board


def _lambda(metric: str, functions: Mapping[str, str], statistic: str = "Sum") -> list[cloudwatch.IMetric]:
    return [
        cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name=metric,
            dimensions_map={"FunctionName": function_name},
            statistic=statistic,
            period=MINUTE,
            label=name,
        )
        for name, function_name in sorted(functions.items())
    ]


def _live_calls(functions: Mapping[str, str], reserved: Mapping[str, int]) -> cloudwatch.GraphWidget:
    """Live calls against the limits: live calls (the sweeper's gauge, all agents), dials handed back at a
    cap (the signal that an agent's or batch's limit binds), and the dialers running against theirs."""
    dialer = cloudwatch.Metric(
        namespace="AWS/Lambda",
        metric_name="ConcurrentExecutions",
        dimensions_map={"FunctionName": functions["dialer"]},
        statistic="Maximum",
        period=MINUTE,
        label="dialers running",
    )
    annotations = []
    if "dialer" in reserved:
        annotations.append(
            cloudwatch.HorizontalAnnotation(value=reserved["dialer"], label="dialer reserved concurrency")
        )
    return cloudwatch.GraphWidget(
        title="Live-call limits: live calls, dials handed back at a cap (per minute), dialers running",
        left=[
            custom(LIVE_CALLS, "live calls (all agents)", statistic="Maximum"),
            custom(WAITING_FOR_SLOT, "at live-call cap (agent or batch)"),
            custom(PACED, "at calls-per-second"),
        ],
        right=[dialer],
        right_annotations=annotations,
        width=WIDTH,
        height=HEIGHT,
    )


def _graph(
    title: str, metrics: Sequence[cloudwatch.IMetric], *, statistic: str | None = None, stacked: bool = False
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=list(metrics),
        width=WIDTH,
        height=HEIGHT,
        stacked=stacked,
        statistic=statistic,
    )
