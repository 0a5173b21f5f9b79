"""Deliver one webhook attempt: claim it, POST it signed, settle it, take the event's next step.

Each message is one attempt of one event. The attempt is claimed in the delivery store
first (a duplicate message finds it taken), made, logged, and settled; a retryable
failure schedules the next attempt as a new delayed message (SQS up to 15 minutes, a
one-time Scheduler schedule beyond), and the last one goes to the dead-letter queue.
A record only fails (and is redelivered by SQS) when the service itself could not finish.

The POST (`adapters/pinned_http.py`) connects only to addresses the SSRF check accepted, never follows
a redirect, and is cut off at WEBHOOK_TIMEOUT_SECONDS in total; its answer is classified by `domain/webhooks.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from .. import clock
from ..adapters.pinned_http import delivery_target, post
from ..domain import ssrf, timeline
from ..domain.arrival import early_until
from ..domain.messages import DeadWebhook, WebhookMessage
from ..domain.records import Tenant
from ..domain.webhooks import (
    Outcome,
    classify,
    endpoint_key,
    message_id,
    next_delay,
    retry_after_seconds,
    signing_secrets,
)
from ..domain.webhooks import signature_header as sign
from ..observability import count, logger
from ..resources import WEBHOOK_QUEUE
from ..store.dynamo import Fields
from ..store.webhook_deliveries import PENDING, SENDING
from .container import Dependencies

EARLY_TOLERANCE = timedelta(seconds=1)
USER_AGENT = "batchcall-webhooks/1"


def deliver_attempt(deps: Dependencies, message: WebhookMessage) -> None:
    now = clock.now()
    due = early_until(message.not_before, now, EARLY_TOLERANCE)
    if due is not None:
        _send(deps, message, message.attempt, due)
        return
    batch = deps.batches.find(message.batch_id)
    if batch is not None and batch.deleted_at:  # deleted: its log is being purged, so nothing is sent or logged
        logger.info("webhook of a deleted batch dropped", extra={"event_id": message.event_id})
        return
    claimed, state = deps.deliveries.claim(
        message.batch_id,
        message.event_id,
        message.attempt,
        now=now.timestamp(),
        lease_until=now.timestamp() + _claim_seconds(deps),
        replay=message.replay,
    )
    if not claimed:
        _not_claimed(deps, message, state, now)
        return
    _settle(deps, message, now, _post(deps, message))


def _claim_seconds(deps: Dependencies) -> float:
    """Longer than one attempt takes, shorter than the queue's visibility timeout (a dead worker's redelivery)."""
    return 2 * deps.settings.webhook_timeout_seconds + 30


def _not_claimed(deps: Dependencies, message: WebhookMessage, state: Fields | None, now: datetime) -> None:
    """A duplicate, usually: dropped. Two cases are not, and must not lose the event:

    - the attempt is held by a worker that may yet die (lease running): look again when the lease ends;
    - this attempt failed long enough ago that its worker should have sent the next one, and may have
      died first: send it (a second copy is harmless, its claim dedupes it).
    """
    state = state or {}
    attempts = int(state.get("attempts", 0))
    if state.get("state") == SENDING and attempts <= message.attempt and state.get("lease_until", 0) > now.timestamp():
        _send(deps, message, message.attempt, datetime.fromtimestamp(float(state["lease_until"]) + 1, UTC))
        return
    if (
        state.get("state") == PENDING
        and attempts == message.attempt
        and state.get("next_try_at")
        and clock.parse_iso(state["updated_at"]) + timedelta(seconds=_claim_seconds(deps)) < now
    ):
        _send(deps, message, message.attempt + 1, clock.parse_iso(state["next_try_at"]))
        return
    logger.info(
        "webhook attempt already taken",
        extra={"event_id": message.event_id, "attempt": message.attempt, "state": state.get("state")},
    )


def _settle(deps: Dependencies, message: WebhookMessage, started: datetime, attempt: Attempt) -> None:
    """Log the attempt, then record it on the event; the next step only if no later attempt took over."""
    outcome, next_at = _next_step(deps, message, attempt)
    if outcome is Outcome.DEAD:
        _dead_letter(deps, message, attempt)
    elif outcome is Outcome.DISABLED:
        deps.tenants.disable_endpoint(message.tenant_id, endpoint_key(message.url))
    count("WebhooksDelivered" if outcome is Outcome.DELIVERED else "WebhookFailures")
    next_try_at = clock.iso(next_at) if next_at else None
    row = {
        "batch_id": message.batch_id,
        "tenant_id": message.tenant_id,
        "event_id": message.event_id,
        "event": message.event,
        "attempt": message.attempt,
        "url_host": attempt.url_host,
        "outcome": outcome.value,
        "status_code": attempt.status,
        "error": attempt.error,
        "latency_ms": attempt.latency_ms,
        "attempted_at": clock.iso(started),
        "next_try_at": next_try_at,
    }
    deps.deliveries.log(row)
    logger.info("webhook attempt", extra={k: v for k, v in row.items() if v is not None})
    state = PENDING if next_at else outcome.value
    settled = deps.deliveries.settle(
        message.batch_id,
        message.event_id,
        message.attempt,
        state,
        updated_at=clock.now_iso(),
        next_try_at=next_try_at,
        record=timeline.webhook_attempt(row),
    )
    if settled and next_at:
        _send(deps, message, message.attempt + 1, next_at)


def _next_step(deps: Dependencies, message: WebhookMessage, attempt: Attempt) -> tuple[Outcome, datetime | None]:
    """A retryable failure gets the next attempt's time, or is dead when the schedule is used up."""
    if attempt.outcome is not Outcome.RETRYING:
        return attempt.outcome, None
    settings = deps.settings
    delay = next_delay(
        message.attempt, settings.webhook_retry_schedule, settings.webhook_max_attempts, attempt.retry_after
    )
    if delay is None:
        return Outcome.DEAD, None
    return Outcome.RETRYING, clock.now() + timedelta(seconds=delay)


def _send(deps: Dependencies, message: WebhookMessage, attempt: int, when: datetime) -> None:
    body = message.retry(attempt, clock.iso(when))
    deps.scheduler.send_at(WEBHOOK_QUEUE, body, when, f"webhook-{message.event_id}-{attempt}", replaces=False)


def _dead_letter(deps: Dependencies, message: WebhookMessage, attempt: Attempt) -> None:
    """Explicitly, since a failed POST never fails the record: redriving it to the queue replays the event."""
    deps.queues.dead_letter(WEBHOOK_QUEUE, DeadWebhook.of(message, clock.now_iso(), attempt.status, attempt.error))


# --- the signed POST of one attempt ------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    url_host: str
    status: int | None = None
    error: str | None = None
    latency_ms: int | None = None
    retry_after: float | None = None


def _post(deps: Dependencies, message: WebhookMessage) -> Attempt:
    """POST the event once, signed with the tenant's current secrets; never raises for the endpoint's faults."""
    settings = deps.settings
    host = _host_of(message.url)
    tenant = deps.tenants.with_secret(message.tenant_id, clock.now_iso())
    if endpoint_key(message.url) in tenant.disabled_endpoints:
        return Attempt(Outcome.SKIPPED, host, error="endpoint disabled after it answered 410 Gone")
    try:
        target, addresses = delivery_target(message.url, settings)
    except ssrf.UnsafeUrl as exc:
        return Attempt(Outcome.REFUSED, host, error=f"refused: {exc}")
    except OSError as exc:
        return Attempt(Outcome.RETRYING, host, error=f"cannot resolve {host}: {exc}")
    body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False)
    result = post(target, addresses, _headers(message, tenant, body), body.encode(), settings.webhook_timeout_seconds)
    error = result.error
    if result.status is not None and 300 <= result.status < 400:
        error = f"redirect to {_host_of(result.location or '') or '(no Location)'} not followed"
    retry_after = None
    if result.status in (429, 503):
        retry_after = retry_after_seconds(result.retry_after, clock.now())
    return Attempt(classify(result.status), target.display_host, result.status, error, result.latency_ms, retry_after)


def _headers(message: WebhookMessage, tenant: Tenant, body: str) -> dict[str, str]:
    """Standard Webhooks headers: id, timestamp and a signature per secret (two while a rotation overlaps)."""
    moment = clock.now().replace(microsecond=0)
    msg_id = message_id(message.event_id)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": sign(signing_secrets(tenant, clock.iso(moment)), msg_id, moment, body),
        "x-batchcall-event": message.event,
    }


def _host_of(url: str) -> str:
    """The host for the log, never the path or query string (they may carry tokens)."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2][:255]
    except ValueError:
        return ""
