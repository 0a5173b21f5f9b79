"""A batch's create-time options and its public (Bolna-compatible) shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from . import json_input
from .agents import CallLimit
from .bounds import Name, PhoneNumber, http_url, no_controls
from .calling_rules import DOCS as RULE_DOCS
from .calling_rules import BlockedDates, CallingHours, json_field
from .json_input import JsonInputError, JsonObject
from .numbers import e164
from .records import Batch, Execution
from .retry import RetryConfig


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
    "warnings",  # + template placeholders with no column, or blank on some rows
)


def public_batch(batch: Batch, now: datetime) -> JsonObject:
    """Bolna's batch object (+ our additions), the one place it is made from the record."""
    stored = batch.model_dump(mode="json", include=set(BATCH_FIELDS))
    shown = {name: stored.get(name) for name in BATCH_FIELDS}
    shown["execution_status"] = {k: v for k, v in sorted(batch.execution_status.items()) if v}
    shown["humanized_created_at"] = humanize(datetime.fromisoformat(batch.created_at.replace("Z", "+00:00")), now)
    return shown


EXECUTION_FIELDS = (
    "batch_id",
    "agent_id",
    "status",
    "user_number",
    "from_number",
    "attempt",
    "retry_count",
    "retry_history",
    "conversation_duration",
    "total_cost",
    "transcript",
    "answered_by_voice_mail",
    "error_message",
    "created_at",
    "updated_at",
    "scheduled_at",
    "claimed_at",  # + when the call took its live-call slot
    "answered_at",  # +
    "ended_at",  # +
    "holiday_calendar",  # + the public-holiday calendar the call was held to (skip_public_holidays)
)


def public_execution(execution: Execution) -> JsonObject:
    shown: JsonObject = {"id": execution.execution_id}
    shown.update({name: getattr(execution, name, None) for name in EXECUTION_FIELDS})
    shown["retry_history"] = execution.retry_history or []
    shown["retry_count"] = execution.retry_count or 0
    shown["answered_by_voice_mail"] = bool(execution.answered_by_voice_mail)
    shown["context_details"] = {"recipient_data": execution.recipient_data or {}}
    shown["telephony_data"] = {
        "provider": execution.provider,
        "provider_call_id": execution.provider_call_id,
        "recording_url": execution.recording_url,
        "hangup_reason": execution.hangup_reason,
    }
    return shown


def spreadsheet_safe(cell: Any) -> str:
    """Neutralise cells a spreadsheet would run as a formula (OWASP CSV injection)."""
    text = "" if cell is None else str(cell)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
