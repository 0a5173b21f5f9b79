"""Powertools batch processing for every SQS consumer: one bad record never blocks the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Json

from ..domain.messages import ControlMessage, DialMessage, ExportMessage, ProviderEvent, WebhookMessage
from ..observability import logger

M = TypeVar("M", bound=BaseModel)


class ControlRecord(SqsRecordModel):
    body: Json[ControlMessage]


class DialRecord(SqsRecordModel):
    body: Json[DialMessage]


class RawRecord(SqsRecordModel):
    """S3 notifications: parsed by the worker, which knows their odd shapes (test events, encoded keys)."""


class ExportRecord(SqsRecordModel):
    body: Json[ExportMessage]


class EventRecord(SqsRecordModel):
    body: Json[ProviderEvent]


class WebhookRecord(SqsRecordModel):
    body: Json[WebhookMessage]


def consume(event: dict[str, Any], record_model: type[SqsRecordModel], handle: Callable[[Any], None]) -> dict[str, Any]:
    """Returns `batchItemFailures`: the failed records are retried, then dead-lettered; the rest are deleted."""
    processor = BatchProcessor(event_type=EventType.SQS, model=record_model)
    response = process_partial_response(
        event=event, record_handler=lambda record: _correlated(handle, record.body), processor=processor
    )
    return dict(response)


CORRELATION = {"batch_id": "batch_id", "execution_id": "execution_id", "tenant": "tenant_id"}


def _correlated(handle: Callable[[Any], None], body: Any) -> None:
    """Every log line written while handling a record carries its batch, execution and tenant."""
    keys = {key: getattr(body, attr, None) for key, attr in CORRELATION.items()}
    logger.thread_safe_append_keys(**{k: v for k, v in keys.items() if v})
    try:
        handle(body)
    finally:
        logger.thread_safe_remove_keys(list(keys))
