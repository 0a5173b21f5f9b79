"""A call's timeline (GET /executions/{id}/log): small entries kept on the execution item itself.

Entries are appended inside writes the call makes anyway (its creation, each compare-and-set of
its status, the record of a placed call, the hand-back of a placement retry), so the timeline
costs no request of its own. Its size is bounded by the call's state machine: one creation, at
most five forward status moves, and two entries per provider request, of which there are at
most PROVIDER_MAX_ATTEMPTS + 20 (rate limits) per attempt; each text is cut to MAX_TEXT
characters and phone numbers are masked as the logs mask them. Who wrote an entry
(`component`) is the function handling the work: set once where each worker starts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import Any, Required

from typing_extensions import TypedDict

from .json_input import JsonObject
from .masking import mask_phone_numbers

MAX_TEXT = 200
DETAIL_FIELDS = (
    "error_message",
    "hangup_reason",
    "conversation_duration",
    "answered_by_voice_mail",
    "scheduled_at",
    "provider_call_id",
)
PUBLIC_FIELDS = ("created_at", "type", "component", "provider", "data", "status", "previous_status", "details")


class Entry(TypedDict, total=False):
    """One timeline entry, as stored on the execution item (and shown, every field present, by `public_entry`)."""

    created_at: Required[str]
    type: Required[str]  # status | request | response | webhook
    component: Required[str]  # a Component's value: who wrote it
    data: Required[str]  # the summary, masked and cut (`text`)
    status: str
    previous_status: str
    provider: str
    details: JsonObject  # DETAIL_FIELDS of a status change, or a webhook attempt's event/outcome/status/latency


class PublicEntry(TypedDict):
    """An entry as GET /executions/{id}/log shows it (api/bodies.py's LogEntry): every field, null when absent."""

    created_at: str | None
    type: str | None
    component: str | None
    provider: str | None
    data: str | None
    status: str | None
    previous_status: str | None
    details: JsonObject
    execution_id: str
    attempt: int


class Component(StrEnum):
    API = "api"
    DISPATCHER = "dispatcher"
    DIALER = "dialer"
    PROVIDER_EVENT = "provider_event"
    SWEEPER = "sweeper"
    WEBHOOK_SENDER = "webhook_sender"


_COMPONENT: ContextVar[str] = ContextVar("timeline_component", default=Component.API.value)


@contextmanager
def acting_as(component: Component) -> Iterator[None]:
    """Entries written inside are attributed to `component` (each worker wraps its handling in this)."""
    token = _COMPONENT.set(component.value)
    try:
        yield
    finally:
        _COMPONENT.reset(token)


def text(value: Any) -> str:
    """Safe to show: phone numbers masked, cut to MAX_TEXT characters."""
    shown = mask_phone_numbers(str(value))
    return shown if len(shown) <= MAX_TEXT else shown[: MAX_TEXT - 1] + "…"


def _entry(
    kind: str,
    at: str,
    summary: str,
    *,
    component: str | None = None,
    status: str | None = None,
    previous_status: str | None = None,
    provider: str | None = None,
    details: JsonObject | None = None,
) -> Entry:
    entry: Entry = {"created_at": at, "type": kind, "component": component or _COMPONENT.get(), "data": text(summary)}
    if status:
        entry["status"] = status
    if previous_status:
        entry["previous_status"] = previous_status
    if provider:
        entry["provider"] = provider
    if details:
        entry["details"] = details
    return entry


def created(status: str, attempt: int, at: str, reason: str | None = None) -> Entry:
    """The attempt came to be: queued by dispatch or as a retry, or written `canceled` by a stop."""
    summary = f"attempt {attempt} {status}" + (f": {reason}" if reason else "")
    return _entry("status", at, summary, status=status)


def status_change(previous: str, status: str, fields: Mapping[str, Any], at: str) -> Entry:
    """A compare-and-set of the status, with the details that came with it."""
    details = {k: (text(fields[k]) if isinstance(fields[k], str) else fields[k]) for k in DETAIL_FIELDS if k in fields}
    provider = fields.get("provider") if _COMPONENT.get() == Component.PROVIDER_EVENT else None
    return _entry(
        "status",
        at,
        f"{previous} -> {status}",
        status=status,
        previous_status=previous,
        provider=provider,
        details=details,
    )


def provider_request(provider: str, to_number: str, from_number: str | None, attempt: int, at: str) -> Entry:
    """What was asked of the provider, summarised: no body, no credentials, numbers masked."""
    return _entry("request", at, f"place call {attempt}: to {to_number} from {from_number or '-'}", provider=provider)


def provider_answer(provider: str, answer: str, at: str) -> Entry:
    return _entry("response", at, answer, provider=provider)


def webhook_attempt(row: Mapping[str, Any]) -> Entry:
    """One delivery attempt of the call's webhook (kept on the delivery's state item)."""
    status = f" {row['status_code']}" if row.get("status_code") is not None else ""
    error = f" ({row['error']})" if row.get("error") else ""
    summary = f"{row['event']} attempt {row['attempt']} to {row.get('url_host')}: {row['outcome']}{status}{error}"
    return _entry(
        "webhook",
        row["attempted_at"],
        summary,
        component=Component.WEBHOOK_SENDER.value,
        details={
            k: row[k] for k in ("event", "attempt", "outcome", "status_code", "latency_ms") if row.get(k) is not None
        },
    )


def public_entry(entry: Entry, execution_id: str, attempt: int) -> PublicEntry:
    """As GET /executions/{id}/log shows it: every field present (null when absent), tagged with its attempt."""
    return PublicEntry(
        created_at=entry.get("created_at"),
        type=entry.get("type"),
        component=entry.get("component"),
        provider=entry.get("provider"),
        data=entry.get("data"),
        status=entry.get("status"),
        previous_status=entry.get("previous_status"),
        details=entry.get("details") or {},
        execution_id=execution_id,
        attempt=attempt,
    )
