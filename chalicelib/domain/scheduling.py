"""Start-time rules: what `scheduled_at` may be and how a start is delivered."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..errors import BadRequest

SQS_MAX_DELAY = timedelta(seconds=900)


def parse_scheduled_at(value: object, now: datetime) -> datetime:
    """ISO 8601 with an offset or Z; naive and past times are refused (Bolna 500s on Z; we accept it)."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(
            "scheduled_at is required: an ISO 8601 time with an offset, e.g. 2026-12-01T10:00:00+05:30",
            code="invalid_scheduled_at",
        )
    text = restore_offset_sign(value.strip())
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        raise BadRequest(f"scheduled_at {text!r} is not an ISO 8601 time", code="invalid_scheduled_at") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadRequest(
            f"scheduled_at {text!r} has no UTC offset: add Z or an offset such as +05:30", code="invalid_scheduled_at"
        )
    if moment <= now:
        raise BadRequest(f"scheduled_at {text!r} is in the past", code="scheduled_at_in_past")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class StartPlan:
    """How to deliver a start: an SQS delay (exact to the second) or a one-time schedule (minute precision)."""

    delay_seconds: int | None
    schedule_at: datetime | None


def plan_start(start_at: datetime, now: datetime) -> StartPlan:
    wait = start_at - now
    if wait < SQS_MAX_DELAY:
        return StartPlan(delay_seconds=max(0, int(wait.total_seconds() + 0.999)), schedule_at=None)
    return StartPlan(delay_seconds=None, schedule_at=start_at)


# A time whose "+hh:mm" offset lost its "+": form url-encoding (curl -d, an HTML form) reads "+" as a space.
_SIGN_LOST = re.compile(r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)")


def restore_offset_sign(text: str) -> str:
    """`2026-12-01T10:00:00 05:30` -> `2026-12-01T10:00:00+05:30`: a space where the offset's sign
    belongs can only be a url-decoded "+" (a "-" survives form encoding), so it is read as one."""
    lost = _SIGN_LOST.fullmatch(text)
    return f"{lost[1]}+{lost[2]}" if lost else text
