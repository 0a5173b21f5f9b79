"""Logs and metrics for every function, configured once.

Logs are JSON with correlation keys (batch_id, execution_id, tenant); every serialized log
line passes through `mask_phone_numbers`, so a phone number cannot reach the logs in full
whatever a developer passes to the logger (exception messages and payload dumps included).
Metrics are CloudWatch EMF lines; `POWERTOOLS_METRICS_DISABLED` silences them locally.
No X-Ray tracer: why, and how to turn Lambda's own tracing on, is in docs/architecture.md.
"""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from .domain.json_input import JsonObject
from .domain.masking import mask_phone_numbers

__all__ = ["count", "flush", "logger", "mask_phone_numbers", "metrics"]


def _masked_json(record: JsonObject) -> str:
    return mask_phone_numbers(json.dumps(record, default=str, ensure_ascii=False, separators=(",", ":")))


logger = Logger(service="batchcall", json_serializer=_masked_json)
metrics = Metrics(namespace="BatchCall", service="batchcall")


def count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    metrics.add_metric(name=name, unit=unit, value=value)


def flush() -> None:
    """Called at the end of every invocation (Chalice handlers are not Lambda-shaped for the decorator).

    Powertools keeps metrics it does not publish (disabled, locally): clear them either way, or a
    long-running local stack would hold every metric it ever counted.
    """
    if metrics.provider.metric_set and not is_metrics_disabled():
        metrics.flush_metrics(raise_on_empty_metrics=False)
    metrics.clear_metrics()
