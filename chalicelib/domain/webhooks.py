"""Webhook rules with no I/O: event ids, payloads, signatures, what an HTTP answer means, when to retry."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

from standardwebhooks import Webhook

from .json_input import JsonObject
from .records import Batch, Tenant

CALL_EVENTS = frozenset({"call.ended", "call.retry_scheduled", "call.updated"})
BATCH_STATUSES = (
    "validating",
    "dispatching",
    "in_progress",
    "waiting_for_scheduled_calls",
    "completed",
    "completed_partial",
    "failed",
    "stopped",  # sent once every contact of the stopped batch is accounted for
    "paused",  # sent when the batch paused itself (its budget was reached), with `pause_reason`
)
FINAL_BATCH_STATUSES = frozenset({"completed", "completed_partial", "failed", "stopped"})
SECRET_PREFIX = "whsec_"
MAX_RETRY_AFTER_SECONDS = 24 * 3600  # a receiver cannot park an event for longer than a day per attempt


class Outcome(StrEnum):
    """One attempt's result, as the delivery log shows it."""

    DELIVERED = "delivered"  # 2xx
    RETRYING = "retrying"  # 5xx, 408, 429, timeout, connection error: another attempt is scheduled
    DEAD = "dead"  # retryable, but that was the last attempt: sent to the dead-letter queue
    FAILED = "failed"  # another 4xx, or a redirect (never followed): not retried
    DISABLED = "disabled"  # 410 Gone: the endpoint is disabled for the tenant
    SKIPPED = "skipped"  # not sent: the endpoint was disabled by an earlier 410
    REFUSED = "refused"  # not sent: the URL or its address is one webhooks may not reach


FINAL_OUTCOMES = frozenset(Outcome) - {Outcome.RETRYING}


def event_id(*parts: str) -> str:
    """Deterministic, so a caller that runs twice (a redelivered queue message) names the same event."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def call_event_id(execution_id: str, event: str) -> str:
    if event not in CALL_EVENTS:
        raise ValueError(f"unknown call event {event!r}; one of {sorted(CALL_EVENTS)}")
    return event_id("call", execution_id, event)


def batch_event_id(batch_id: str, status: str, occurrence: str = "") -> str:
    """One event per status per batch: a status reported twice is the same event. A status a batch may
    reach more than once (`paused`, at each budget) names its `occurrence`."""
    if status not in BATCH_STATUSES:
        raise ValueError(f"unknown batch status {status!r}; one of {BATCH_STATUSES}")
    return event_id("batch", batch_id, status, occurrence) if occurrence else event_id("batch", batch_id, status)


def batch_counts(batch: Batch) -> JsonObject:
    """The call counts a final batch event carries when the caller gives none."""
    return {
        "total_contacts": batch.total_contacts,
        "valid_contacts": batch.valid_contacts,
        "invalid_contacts": batch.invalid_contacts,
        "execution_status": {k: v for k, v in sorted((batch.execution_status or {}).items()) if v},
    }


def batch_payload(batch_id: str, status: str, timestamp: str, counts: JsonObject | None) -> JsonObject:
    return {**(counts or {}), "batch_id": batch_id, "status": status, "timestamp": timestamp}


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secrets(tenant: Tenant, now_iso: str) -> list[str]:
    """Current secret first, then the previous one while its overlap lasts."""
    assert tenant.webhook_secret is not None  # made on first use (TenantStore.with_secret)
    found = [tenant.webhook_secret]
    previous, until = tenant.previous_webhook_secret, tenant.previous_secret_expires_at
    if previous and until and now_iso < until:
        found.append(previous)
    return found


def signature_header(signing_secrets: Iterable[str], msg_id: str, timestamp: datetime, body: str) -> str:
    """`v1,<sig>` per secret, space-separated: during a rotation the receiver may hold either secret."""
    moment = timestamp.astimezone(UTC)
    return " ".join(Webhook(secret).sign(msg_id, moment, body) for secret in signing_secrets)


def message_id(event: str) -> str:
    """The `webhook-id` header: the same on every attempt, so receivers can dedupe."""
    return f"msg_{event}"


def classify(status: int | None) -> Outcome:
    """What an HTTP status means for the event; None is a timeout or a connection error.

    Returns RETRYING for everything worth trying again; the caller turns it into DEAD
    when no attempt is left.
    """
    if status is None or status >= 500 or status in (408, 429):
        return Outcome.RETRYING
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.DISABLED
    return Outcome.FAILED


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (delta-seconds or an HTTP date) as seconds from now; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def next_delay(
    attempt: int, schedule: Sequence[int], max_attempts: int, retry_after: float | None = None
) -> int | None:
    """Seconds until the attempt after `attempt` (1 = the first try), or None when it was the last.

    The schedule's last delay repeats when max_attempts outlasts it. A Retry-After is honoured
    when it asks for longer than the schedule (capped at a day).
    """
    if attempt >= max_attempts:
        return None
    delay = schedule[min(attempt - 1, len(schedule) - 1)]
    if retry_after is not None:
        delay = max(delay, int(min(retry_after, MAX_RETRY_AFTER_SECONDS) + 0.999))
    return delay


def endpoint_key(url: str) -> str:
    """How a disabled endpoint is remembered: a digest of the exact URL (no secrets in query strings stored)."""
    return hashlib.sha256(url.encode()).hexdigest()[:32]
