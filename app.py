"""Wiring only: routes and event handlers bound to code in chalicelib/."""

from __future__ import annotations

from typing import Any

from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib import observability
from chalicelib.api import (
    agents,
    audit,
    batches,
    dashboard,
    erasures,
    executions,
    plans,
    providers,
    reference,
    suppressions,
    webhooks,
)
from chalicelib.api.http import in_our_error_shape
from chalicelib.resources import (
    CONTROL_QUEUE,
    DIAL_QUEUE,
    EXPORTS_QUEUE,
    INGEST_QUEUE,
    PROVIDER_EVENTS_QUEUE,
    WEBHOOK_QUEUE,
    queue_name,
)
from chalicelib.services.container import get_dependencies
from chalicelib.settings import get_settings
from chalicelib.workers.consume import (
    ControlRecord,
    DialRecord,
    EventRecord,
    ExportRecord,
    RawRecord,
    WebhookRecord,
    consume,
)
from chalicelib.workers.dialer import handle_dial
from chalicelib.workers.dispatcher import handle_control
from chalicelib.workers.exporter import handle_export
from chalicelib.workers.ingest import handle_notification
from chalicelib.workers.provider_events import handle_event
from chalicelib.workers.sweeper import sweep
from chalicelib.workers.webhook_sender import handle_webhook

settings = get_settings()
app = Chalice(app_name="batchcall")
app.api.binary_types.append("multipart/form-data")  # API Gateway then hands the body over as bytes


@app.middleware("all")
def flush_metrics(event: Any, get_response: Any) -> Any:
    """Every function, API or worker, publishes its metrics when its invocation ends."""
    try:
        return get_response(event)
    finally:
        observability.flush()


app.register_middleware(in_our_error_shape, "http")  # Chalice's own error answers, in our JSON shape


app.register_blueprint(agents.bp)
app.register_blueprint(batches.bp)
app.register_blueprint(plans.bp)
app.register_blueprint(executions.bp)
app.register_blueprint(webhooks.bp)
app.register_blueprint(providers.bp)
app.register_blueprint(reference.bp)
app.register_blueprint(dashboard.bp)
app.register_blueprint(suppressions.bp)
app.register_blueprint(erasures.bp)
app.register_blueprint(audit.bp)


@app.on_sqs_message(queue=queue_name(settings, CONTROL_QUEUE), batch_size=1, name="dispatcher")
def dispatcher(event: SQSEvent) -> dict[str, Any]:
    return consume(event.to_dict(), ControlRecord, lambda msg: handle_control(get_dependencies(), msg))


@app.on_sqs_message(queue=queue_name(settings, DIAL_QUEUE), batch_size=10, name="dialer")
def dialer(event: SQSEvent) -> dict[str, Any]:
    context: Any = event.context  # the Lambda context object (Chalice types it loosely)
    remaining = context.get_remaining_time_in_millis if context is not None else None
    return consume(event.to_dict(), DialRecord, lambda msg: handle_dial(get_dependencies(), msg, remaining))


@app.on_sqs_message(queue=queue_name(settings, PROVIDER_EVENTS_QUEUE), batch_size=10, name="provider_events")
def provider_events(event: SQSEvent) -> dict[str, Any]:
    return consume(event.to_dict(), EventRecord, lambda msg: handle_event(get_dependencies(), msg))


@app.on_sqs_message(queue=queue_name(settings, INGEST_QUEUE), batch_size=1, name="ingest")
def ingest(event: SQSEvent) -> dict[str, Any]:
    return consume(event.to_dict(), RawRecord, lambda body: handle_notification(get_dependencies(), body))


@app.on_sqs_message(queue=queue_name(settings, WEBHOOK_QUEUE), batch_size=10, name="webhook_sender")
def webhook_sender(event: SQSEvent) -> dict[str, Any]:
    return consume(event.to_dict(), WebhookRecord, lambda msg: handle_webhook(get_dependencies(), msg))


@app.on_sqs_message(queue=queue_name(settings, EXPORTS_QUEUE), batch_size=1, name="exporter")
def exporter(event: SQSEvent) -> dict[str, Any]:
    return consume(event.to_dict(), ExportRecord, lambda msg: handle_export(get_dependencies(), msg))


@app.schedule(Rate(1, unit=Rate.MINUTES), name="sweeper")
def sweeper(event: CloudWatchEvent) -> None:
    sweep(get_dependencies())
