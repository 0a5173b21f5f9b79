"""Start-time rules: what `scheduled_at` may be and how a start is delivered."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..errors import BadRequest

SQS_MAX_DELAY = timedelta(seconds=900)
DEFAULT_MAX_LEAD = timedelta(days=365)  # MAX_SCHEDULE_LEAD_DAYS


def parse_scheduled_at(value: object, now: datetime, max_lead: timedelta = DEFAULT_MAX_LEAD) -> datetime:
    """ISO 8601 with an offset or Z, after `now` and at most `max_lead` ahead (Bolna 500s on Z; we accept it).

    The bound keeps every stored start far from datetime's limits, so date arithmetic on it
    (the sweeper's missed-start check, the Scheduler's at()) can never overflow.
    """
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
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-05:00 is in the year 10000 in UTC
        raise BadRequest(
            f"scheduled_at {text!r} cannot be represented in UTC",
            code="invalid_scheduled_at",
            details=[{"field": "scheduled_at"}],
        ) from None
    if moment <= now:
        raise BadRequest(f"scheduled_at {text!r} is in the past", code="scheduled_at_in_past")
    if moment - now > max_lead:
        days = max_lead.days
        raise BadRequest(
            f"scheduled_at {text!r} is more than {days} days ahead: starts may be at most {days} days away "
            "(MAX_SCHEDULE_LEAD_DAYS)",
            code="scheduled_at_too_far",
            details=[{"field": "scheduled_at", "max_lead_days": days, "latest": _iso(now + max_lead)}],
        )
    return moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class StartPlan:
    """How to deliver a start: an SQS delay (exact to the second) or a one-time schedule (minute precision)."""

    delay_seconds: int | None
    schedule_at: datetime | None


def plan_start(start_at: datetime, now: datetime) -> StartPlan:
    wait = start_at - now
    if wait < SQS_MAX_DELAY:
        return StartPlan(delay_seconds=max(0, math.ceil(wait.total_seconds())), schedule_at=None)
    return StartPlan(delay_seconds=None, schedule_at=start_at)


# A time whose "+hh:mm" offset lost its "+": form url-encoding (curl -d, an HTML form) reads "+" as a space.
_SIGN_LOST = re.compile(r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)")


def restore_offset_sign(text: str) -> str:
    """`2026-12-01T10:00:00 05:30` -> `2026-12-01T10:00:00+05:30`: a space where the offset's sign
    belongs can only be a url-decoded "+" (a "-" survives form encoding), so it is read as one."""
    lost = _SIGN_LOST.fullmatch(text)
    return f"{lost[1]}+{lost[2]}" if lost else text
