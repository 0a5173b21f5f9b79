"""Webhooks: announcing events (one queue message each), the tenant's signing secret, and URL safety checks.

The sender is `services/webhook_delivery.py` (behind `workers/webhook_sender.py`); the rules are
`domain/webhooks.py` and `domain/ssrf.py`.
"""

from __future__ import annotations

from datetime import timedelta

from .. import clock
from ..adapters.pinned_http import resolve
from ..domain import ssrf
from ..domain.batches import public_execution
from ..domain.json_input import JsonObject
from ..domain.messages import WebhookMessage
from ..domain.records import Batch, Execution, Tenant
from ..domain.webhooks import (
    FINAL_BATCH_STATUSES,
    batch_counts,
    batch_event_id,
    batch_payload,
    call_event_id,
    new_secret,
)
from ..errors import BadRequest
from ..resources import WEBHOOK_QUEUE
from ..settings import Settings
from ..store.dynamo import Fields
from .container import Dependencies


def emit_call_event(deps: Dependencies, execution: Execution, batch: Batch, event: str) -> None:
    """Queue `call.ended` / `call.retry_scheduled` for the batch's webhook_url; nothing when it has none."""
    url = batch.webhook_url
    if not url:
        return
    _enqueue(
        deps,
        event_id=call_event_id(execution.execution_id, event),
        event=event,
        batch=batch,
        url=url,
        payload=public_execution(execution),
    )


def emit_batch_event(
    deps: Dependencies, batch: Batch, status: str, counts: JsonObject | None = None, occurrence: str = ""
) -> None:
    """Queue a lifecycle step for the batch's status_webhook; final steps carry call counts (the batch's if none)."""
    url = batch.status_webhook
    event_id = batch_event_id(batch.batch_id, status, occurrence)  # validates the status even with no URL
    if not url:
        return
    if counts is None and status in FINAL_BATCH_STATUSES:
        counts = batch_counts(batch)
    payload = batch_payload(batch.batch_id, status, clock.now_iso(), counts)
    _enqueue(deps, event_id=event_id, event=f"batch.{status}", batch=batch, url=url, payload=payload)


def _enqueue(deps: Dependencies, *, event_id: str, event: str, batch: Batch, url: str, payload: JsonObject) -> None:
    message = WebhookMessage.new(
        event_id=event_id,
        event=event,
        tenant_id=batch.tenant_id,
        batch_id=batch.batch_id,
        url=url,
        payload=payload,
        now=clock.now_iso(),
    )
    deps.queues.send(WEBHOOK_QUEUE, message)


def validate_webhook_url(url: str, settings: Settings, field: str = "webhook_url") -> str:
    """For the API, where webhook_url / status_webhook are set: refuse what delivery would refuse.

    A host that does not resolve now is accepted (DNS may not be set up yet, or be briefly
    down); delivery checks again before every attempt.
    """
    text = url.strip()
    try:
        target = ssrf.parse_target(text, allow_private=settings.webhook_allow_private)
        try:
            ssrf.addresses_to_connect(target, resolve, allow_private=settings.webhook_allow_private)
        except OSError:
            return text
    except ssrf.UnsafeUrl as exc:
        raise BadRequest(
            f"{field} {exc}", code="invalid_webhook_url", details=[{"field": field, "message": str(exc)}]
        ) from None
    return text


def current_secret(deps: Dependencies, tenant_id: str) -> Tenant:
    """The tenant's signing secrets, made on first use."""
    return deps.tenants.with_secret(tenant_id, clock.now_iso())


def rotate_secret(deps: Dependencies, tenant_id: str) -> Tenant:
    """A new secret; webhooks carry a signature with the old one too until the overlap ends."""
    current_secret(deps, tenant_id)
    now = clock.now()
    until = now + timedelta(hours=deps.settings.webhook_secret_overlap_hours)
    return deps.tenants.rotate_secret(tenant_id, new_secret(), clock.iso(now), clock.iso(until))


def public_secret(tenant: Tenant) -> JsonObject:
    return {
        "secret": tenant.webhook_secret,
        "created_at": tenant.webhook_secret_created_at,
        "previous_secret_expires_at": tenant.previous_secret_expires_at,
    }


DELIVERY_FIELDS = (
    "event_id",
    "event",
    "attempt",
    "url_host",
    "outcome",
    "status_code",
    "error",
    "latency_ms",
    "attempted_at",
    "next_try_at",
)


def public_delivery(row: Fields) -> JsonObject:
    return {name: row.get(name) for name in DELIVERY_FIELDS}
