"""Webhook-queue consumer: one signed POST per message, then the event's next step.

Each message is one attempt of one event. The attempt is claimed in the delivery store
first (a duplicate message finds it taken), made, logged, and settled; a retryable
failure schedules the next attempt as a new delayed message (SQS up to 15 minutes, a
one-time Scheduler schedule beyond), and the last one goes to the dead-letter queue.
A record only fails (and is redelivered by SQS) when the service itself could not finish.

The POST itself (`adapters/pinned_http.py`) connects only to addresses the SSRF check accepted,
never follows a redirect, and is cut off at WEBHOOK_TIMEOUT_SECONDS in total.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .. import clock
from ..adapters.pinned_http import delivery_target, post
from ..adapters.queues import MAX_DELAY
from ..domain import ssrf
from ..domain.messages import DeadWebhook, WebhookMessage
from ..domain.webhooks import Outcome, classify, endpoint_key, message_id, next_delay, retry_after_seconds
from ..domain.webhooks import signature_header as sign
from ..observability import count, logger
from ..resources import WEBHOOK_QUEUE
from ..services import webhooks
from ..services.container import Services
from ..store.webhook_deliveries import PENDING, SENDING

USER_AGENT = "batchcall-webhooks/1"
EARLY_TOLERANCE = timedelta(seconds=1)


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    url_host: str
    status: int | None = None
    error: str | None = None
    latency_ms: int | None = None
    retry_after: float | None = None


def handle_webhook(svc: Services, message: WebhookMessage) -> None:
    now = clock.now()
    if message.not_before and clock.parse_iso(message.not_before) > now + EARLY_TOLERANCE:
        _send(svc, message, message.attempt, clock.parse_iso(message.not_before))
        return
    claimed, state = svc.deliveries.claim(
        message.batch_id,
        message.event_id,
        message.attempt,
        now=now.timestamp(),
        lease_until=now.timestamp() + _claim_seconds(svc),
        replay=message.replay,
    )
    if not claimed:
        _not_claimed(svc, message, state, now)
        return
    _settle(svc, message, now, _attempt(svc, message))


def _claim_seconds(svc: Services) -> float:
    """Longer than one attempt takes, shorter than the queue's visibility timeout (a dead worker's redelivery)."""
    return 2 * svc.settings.webhook_timeout_seconds + 30


def _not_claimed(svc: Services, message: WebhookMessage, state: dict[str, Any] | None, now: datetime) -> None:
    """A duplicate, usually: dropped. Two cases are not, and must not lose the event:

    - the attempt is held by a worker that may yet die (lease running): look again when the lease ends;
    - this attempt failed long enough ago that its worker should have sent the next one, and may have
      died first: send it (a second copy is harmless, its claim dedupes it).
    """
    state = state or {}
    attempts = int(state.get("attempts", 0))
    if state.get("state") == SENDING and attempts <= message.attempt and state.get("lease_until", 0) > now.timestamp():
        _send(svc, message, message.attempt, datetime.fromtimestamp(float(state["lease_until"]) + 1, UTC))
        return
    if (
        state.get("state") == PENDING
        and attempts == message.attempt
        and state.get("next_try_at")
        and clock.parse_iso(state["updated_at"]) + timedelta(seconds=_claim_seconds(svc)) < now
    ):
        _send(svc, message, message.attempt + 1, clock.parse_iso(state["next_try_at"]))
        return
    logger.info(
        "webhook attempt already taken",
        extra={"event_id": message.event_id, "attempt": message.attempt, "state": state.get("state")},
    )


def _attempt(svc: Services, message: WebhookMessage) -> Attempt:
    settings = svc.settings
    host = _host(message.url)
    tenant = webhooks.current_secret(svc, message.tenant_id)
    if endpoint_key(message.url) in (tenant.get("disabled_endpoints") or set()):
        return Attempt(Outcome.SKIPPED, host, error="endpoint disabled after it answered 410 Gone")
    try:
        target, addresses = delivery_target(message.url, settings)
    except ssrf.UnsafeUrl as exc:
        return Attempt(Outcome.REFUSED, host, error=f"refused: {exc}")
    except OSError as exc:
        return Attempt(Outcome.RETRYING, host, error=f"cannot resolve {host}: {exc}")
    body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False)
    moment = clock.now().replace(microsecond=0)
    msg_id = message_id(message.event_id)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": sign(webhooks.signing_secrets(tenant, clock.iso(moment)), msg_id, moment, body),
        "x-batchcall-event": message.event,
    }
    result = post(target, addresses, headers, body.encode(), settings.webhook_timeout_seconds)
    outcome = classify(result.status)
    error = result.error
    if result.status is not None and 300 <= result.status < 400:
        error = f"redirect to {_host(result.location or '') or '(no Location)'} not followed"
    retry_after = None
    if result.status in (429, 503):
        retry_after = retry_after_seconds(result.retry_after, clock.now())
    return Attempt(outcome, target.display_host, result.status, error, result.latency_ms, retry_after)


def _settle(svc: Services, message: WebhookMessage, started: datetime, attempt: Attempt) -> None:
    """Log the attempt, then record it on the event; the next step only if no later attempt took over."""
    outcome = attempt.outcome
    next_at: datetime | None = None
    if outcome is Outcome.RETRYING:
        settings = svc.settings
        delay = next_delay(
            message.attempt, settings.webhook_retry_schedule, settings.webhook_max_attempts, attempt.retry_after
        )
        if delay is None:
            outcome = Outcome.DEAD
        else:
            next_at = clock.now() + timedelta(seconds=delay)
    if outcome is Outcome.DEAD:
        _dead_letter(svc, message, attempt)
    elif outcome is Outcome.DISABLED:
        svc.tenants.disable_endpoint(message.tenant_id, endpoint_key(message.url))
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
    svc.deliveries.log(row)
    logger.info("webhook attempt", extra={k: v for k, v in row.items() if v is not None})
    state = PENDING if next_at else outcome.value
    settled = svc.deliveries.settle(
        message.batch_id,
        message.event_id,
        message.attempt,
        state,
        updated_at=clock.now_iso(),
        next_try_at=next_try_at,
    )
    if settled and next_at:
        _send(svc, message, message.attempt + 1, next_at)


def _send(svc: Services, message: WebhookMessage, attempt: int, when: datetime) -> None:
    body = message.retry(attempt, clock.iso(when))
    wait = (when - clock.now()).total_seconds()
    if wait < MAX_DELAY:
        svc.queues.send(WEBHOOK_QUEUE, body, math.ceil(max(0.0, wait)))
    else:
        svc.scheduler.send_at(WEBHOOK_QUEUE, body, when, f"webhook-{message.event_id}-{attempt}")


def _dead_letter(svc: Services, message: WebhookMessage, attempt: Attempt) -> None:
    """Explicitly, since a failed POST never fails the record: redriving it to the queue replays the event."""
    svc.queues.dead_letter(WEBHOOK_QUEUE, DeadWebhook.of(message, clock.now_iso(), attempt.status, attempt.error))


def _host(url: str) -> str:
    """The host for the log, never the path or query string (they may carry tokens)."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2][:255]
    except ValueError:
        return ""
