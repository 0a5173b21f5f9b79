"""A batch's create-time options and its public (Bolna-compatible) shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from . import json_input
from .agents import CallLimit, MaxSpend
from .bounds import Name, PhoneNumber, http_url, no_controls
from .calling_rules import DOCS as RULE_DOCS
from .calling_rules import BlockedDates, CallingHours, json_field
from .extraction import breakdown
from .json_input import JsonInputError, JsonObject
from .numbers import e164
from .records import Batch, Execution
from .retry import RetryConfig

MAX_SPEND_DOC = (
    "Budget: when the cost the batch's calls reported reaches it, the batch pauses itself "
    "(`pause_reason: budget_reached`); resuming needs a higher one. In the provider's currency."
)


class Budget(BaseModel):
    """`max_spend` where a route reads it beside other fields (schedule, resume), as JSON or a form field."""

    model_config = ConfigDict(extra="ignore")

    max_spend: MaxSpend | None = Field(None, description=MAX_SPEND_DOC)


class BatchOptions(BaseModel):
    """Everything POST /batches accepts besides the contacts, whether sent as form fields or JSON."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    agent_id: Name = Field(..., min_length=1, max_length=64)
    from_phone_numbers: list[PhoneNumber] = Field(default_factory=list, max_length=50)
    webhook_url: str | None = Field(None, max_length=2000)
    retry_config: RetryConfig | None = None
    name: Name | None = Field(None, max_length=200)
    default_region: str | None = Field(None, max_length=8)
    status_webhook: str | None = Field(None, max_length=2000)
    scheduled_at: str | None = Field(None, max_length=64)
    max_concurrent_calls: CallLimit | None = None
    bypass_call_guardrails: bool = False
    max_spend: MaxSpend | None = Field(None, description=MAX_SPEND_DOC)
    calling_hours: CallingHours | None = Field(None, description=RULE_DOCS["calling_hours"] + " Null: the agent's.")
    blocked_dates: BlockedDates | None = Field(None, description=RULE_DOCS["blocked_dates"] + " Null: the agent's.")
    skip_public_holidays: bool | None = Field(
        None, description=RULE_DOCS["skip_public_holidays"] + " Null: the agent's."
    )

    @field_validator("calling_hours", "blocked_dates", mode="before")
    @classmethod
    def _rules_json(cls, value: Any, info: ValidationInfo) -> Any:
        """As form fields these arrive as JSON text."""
        return json_field(value, str(info.field_name))

    @field_validator("from_phone_numbers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        """Accept a repeated field, a JSON list or a comma-separated string."""
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            out: list[Any] = []
            for item in value:
                if not isinstance(item, str):
                    out.append(item)
                    continue
                text = item.strip()
                if text.startswith("["):
                    try:
                        out.extend(json_input.loads(text, field="from_phone_numbers"))
                        continue
                    except ValueError:
                        pass
                out.extend(part for part in text.split(",") if part.strip())
            return out
        return value

    @field_validator("from_phone_numbers")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        return [e164(str(number).strip()) for number in value]

    @field_validator("retry_config", mode="before")
    @classmethod
    def _retry_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                return json_input.loads(value)
            except JsonInputError as exc:
                raise ValueError(f"retry_config must be a JSON object: {exc.message}") from None
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if not value:
            return None
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not an ISO country code phonenumbers knows, e.g. US or IN")
        return region

    @field_validator("webhook_url", "status_webhook")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return http_url(value or None)


FILE_NAME_MAX = 255


class UploadOptions(BatchOptions):
    """POST /batches/uploads: the batch's options and the name of the file that will be uploaded."""

    file_name: Name | None = Field(None, max_length=FILE_NAME_MAX)


def check_file_name(name: str | None) -> None:
    """A multipart upload's file name obeys the same bounds as `file_name` on POST /batches/uploads."""
    if name is not None:
        if len(name) > FILE_NAME_MAX:
            raise ValueError(f"the file name must be at most {FILE_NAME_MAX} characters")
        no_controls(name)


def humanize(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    if seconds < 45:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


BATCH_FIELDS = (
    "batch_id",
    "agent_id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "scheduled_at",
    "from_phone_numbers",
    "file_name",
    "total_contacts",
    "valid_contacts",
    "invalid_contacts",
    "duplicate_contacts",
    "suppressed_contacts",  # + valid numbers skipped: on the tenant's do-not-call list
    "retry_config",
    "webhook_url",
    "status_webhook",
    "max_concurrent_calls",
    "default_region",
    "bypass_call_guardrails",
    "calling_hours",  # + the batch's own calling rules (null: the agent's)
    "blocked_dates",  # +
    "skip_public_holidays",  # +
    "started_at",
    "completed_at",
    "stopped_at",
    "failure_reason",  # + why a batch is failed (uploads)
    "max_spend",  # + the budget
    "spend",  # + the cost its calls reported
    "pause_reason",  # + why a batch paused itself (budget_reached)
    "warnings",  # + template placeholders with no column, or blank on some rows
)


class PublicBatch(TypedDict):
    """Bolna's batch object plus ours, as GET /batches/{id} answers it (api/bodies.py's Batch), keys in order."""

    batch_id: str
    agent_id: str
    name: str | None
    status: str
    created_at: str
    updated_at: str | None
    scheduled_at: str | None
    from_phone_numbers: list[str] | None
    file_name: str | None
    total_contacts: int | None
    valid_contacts: int | None
    invalid_contacts: int | None
    duplicate_contacts: int | None
    suppressed_contacts: int | None
    retry_config: JsonObject | None
    webhook_url: str | None
    status_webhook: str | None
    max_concurrent_calls: int | None
    default_region: str | None
    bypass_call_guardrails: bool | None
    calling_hours: dict[str, list[list[str]]] | None
    blocked_dates: list[dict[str, str]] | None
    skip_public_holidays: bool | None
    started_at: str | None
    completed_at: str | None
    stopped_at: str | None
    failure_reason: JsonObject | None
    max_spend: float | None
    spend: float | None
    pause_reason: str | None
    warnings: list[JsonObject] | None
    execution_status: dict[str, int]  # per call status, zero counts omitted
    extraction_breakdown: dict[str, dict[str, int]]
    humanized_created_at: str


def public_batch(batch: Batch, now: datetime) -> PublicBatch:
    """Bolna's batch object (+ our additions), the one place it is made from the record."""
    stored = batch.model_dump(mode="json", include=set(BATCH_FIELDS))
    return {
        "batch_id": stored["batch_id"],
        "agent_id": stored["agent_id"],
        "name": stored.get("name"),
        "status": stored["status"],
        "created_at": stored["created_at"],
        "updated_at": stored.get("updated_at"),
        "scheduled_at": stored.get("scheduled_at"),
        "from_phone_numbers": stored.get("from_phone_numbers"),
        "file_name": stored.get("file_name"),
        "total_contacts": stored.get("total_contacts"),
        "valid_contacts": stored.get("valid_contacts"),
        "invalid_contacts": stored.get("invalid_contacts"),
        "duplicate_contacts": stored.get("duplicate_contacts"),
        "suppressed_contacts": stored.get("suppressed_contacts"),
        "retry_config": stored.get("retry_config"),
        "webhook_url": stored.get("webhook_url"),
        "status_webhook": stored.get("status_webhook"),
        "max_concurrent_calls": stored.get("max_concurrent_calls"),
        "default_region": stored.get("default_region"),
        "bypass_call_guardrails": stored.get("bypass_call_guardrails"),
        "calling_hours": stored.get("calling_hours"),
        "blocked_dates": stored.get("blocked_dates"),
        "skip_public_holidays": stored.get("skip_public_holidays"),
        "started_at": stored.get("started_at"),
        "completed_at": stored.get("completed_at"),
        "stopped_at": stored.get("stopped_at"),
        "failure_reason": stored.get("failure_reason"),
        "max_spend": stored.get("max_spend"),
        "spend": stored.get("spend"),
        "pause_reason": stored.get("pause_reason"),
        "warnings": stored.get("warnings"),
        "execution_status": {k: v for k, v in sorted(batch.execution_status.items()) if v},
        "extraction_breakdown": breakdown(batch.extraction_tallies),
        "humanized_created_at": humanize(_instant(batch.created_at), now),
    }


# Bolna's cost components; a provider that reports only a total (simulator, Twilio) is all telephony: `network`.
COST_COMPONENTS = ("llm", "network", "platform", "synthesizer", "transcriber")


class ContextDetails(TypedDict):
    recipient_data: JsonObject  # the contact's columns, as uploaded


class BatchRunDetails(TypedDict):
    status: str | None
    created_at: str | None
    updated_at: str | None
    retried: int


class TelephonyData(TypedDict):
    duration: Any  # as the provider reported it
    to_number: str | None
    from_number: str | None
    recording_url: str | None
    hosted_telephony: bool
    provider_call_id: str | None
    call_type: str
    provider: str | None
    hangup_by: str | None
    hangup_reason: str | None
    hangup_provider_code: Any
    ring_duration: float | None
    post_dial_delay: float | None


class PublicExecution(TypedDict):
    """Bolna's execution object plus ours (api/bodies.py's Execution, docs/api.md), keys in the order shown."""

    id: str
    batch_id: str
    agent_id: str | None
    status: str
    user_number: str | None
    from_number: str | None
    attempt: int | None
    retry_count: int
    retry_history: list[JsonObject]
    conversation_duration: float | None
    total_cost: float | None
    transcript: str | None
    summary: str | None
    answered_by_voice_mail: bool
    error_message: str | None
    created_at: str | None
    updated_at: str | None
    scheduled_at: str | None
    claimed_at: str | None
    answered_at: str | None
    ended_at: str | None
    extracted_data: JsonObject | None
    transfer_call_data: JsonObject | None
    usage_breakdown: JsonObject | None
    holiday_calendar: str | None
    conversation_time: float | None
    extraction_errors: list[JsonObject]
    cost_breakdown: dict[str, float] | None
    context_details: ContextDetails
    batch_run_details: BatchRunDetails
    telephony_data: TelephonyData


def public_execution(record: Execution) -> PublicExecution:
    """Bolna's execution object, every documented key present (null when unknown), plus ours (docs/api.md)."""
    execution = record.model_dump(mode="json", warnings=False)  # a status set as text is still its text
    retry_count = execution.get("retry_count") or 0
    return {
        "id": execution["execution_id"],
        "batch_id": execution["batch_id"],
        "agent_id": execution.get("agent_id"),
        "status": execution["status"],
        "user_number": execution.get("user_number"),
        "from_number": execution.get("from_number"),
        "attempt": execution.get("attempt"),
        "retry_count": retry_count,
        "retry_history": execution.get("retry_history") or [],
        "conversation_duration": execution.get("conversation_duration"),
        "total_cost": execution.get("total_cost"),
        "transcript": execution.get("transcript"),
        "summary": execution.get("summary"),
        "answered_by_voice_mail": bool(execution.get("answered_by_voice_mail")),
        "error_message": execution.get("error_message"),
        "created_at": execution.get("created_at"),
        "updated_at": execution.get("updated_at"),
        "scheduled_at": execution.get("scheduled_at"),
        "claimed_at": execution.get("claimed_at"),
        "answered_at": execution.get("answered_at"),
        "ended_at": execution.get("ended_at"),
        "extracted_data": execution.get("extracted_data"),
        "transfer_call_data": execution.get("transfer_call_data"),
        "usage_breakdown": execution.get("usage_breakdown"),
        "holiday_calendar": execution.get("holiday_calendar"),
        "conversation_time": execution.get("conversation_duration"),
        "extraction_errors": execution.get("extraction_errors") or [],
        "cost_breakdown": cost_breakdown(execution),
        "context_details": {"recipient_data": execution.get("recipient_data") or {}},
        "batch_run_details": {
            "status": execution.get("status"),
            "created_at": execution.get("created_at"),
            "updated_at": execution.get("updated_at"),
            "retried": retry_count,
        },
        "telephony_data": _telephony(execution),
    }


def cost_breakdown(execution: JsonObject) -> dict[str, float] | None:
    """By component as the provider reported it, else the total as telephony (`network`); None with no cost."""
    reported = execution.get("cost_breakdown")
    if isinstance(reported, dict) and reported:
        return {**dict.fromkeys(COST_COMPONENTS, 0.0), **reported}
    total = execution.get("total_cost")
    if total is None:
        return None
    return {**dict.fromkeys(COST_COMPONENTS, 0.0), "network": total}


def _reported_or(execution: JsonObject, name: str, since: str, *until: str) -> float | None:
    """A provider's figure, else seconds between two of our own timestamps (the first `until` present)."""
    if execution.get(name) is not None:
        return float(execution[name])
    end = next((execution[u] for u in until if execution.get(u)), None)
    if not execution.get(since) or not end:
        return None
    seconds = (_instant(end) - _instant(execution[since])).total_seconds()
    return round(seconds, 1) if seconds >= 0 else None


def _first(execution: JsonObject, *names: str) -> Any:
    return next((execution[n] for n in names if execution.get(n) is not None), None)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def spreadsheet_safe(cell: Any) -> str:
    """Neutralise cells a spreadsheet would run as a formula (OWASP CSV injection)."""
    text = "" if cell is None else str(cell)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _telephony(execution: JsonObject) -> TelephonyData:
    """Bolna's `telephony_data`: the call as the phone network saw it."""
    return {
        "duration": _first(execution, "telephony_duration", "conversation_duration"),
        "to_number": execution.get("user_number"),
        "from_number": execution.get("from_number"),
        "recording_url": execution.get("recording_url"),
        "hosted_telephony": False,  # calls go through the tenant's own provider account, never ours
        "provider_call_id": execution.get("provider_call_id"),
        "call_type": "outbound",
        "provider": execution.get("provider"),
        "hangup_by": execution.get("hangup_by"),
        "hangup_reason": execution.get("hangup_reason"),
        "hangup_provider_code": execution.get("hangup_provider_code"),
        "ring_duration": _reported_or(execution, "ring_duration", "ringing_at", "answered_at", "ended_at"),
        "post_dial_delay": _reported_or(execution, "post_dial_delay", "claimed_at", "ringing_at"),
    }
