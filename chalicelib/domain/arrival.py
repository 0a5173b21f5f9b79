"""A delayed message can arrive early (a Scheduler fires on the minute): it waits out the rest."""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import clock


def early_until(due: str | None, now: datetime, tolerance: timedelta) -> datetime | None:
    """The time a message due at `due` waits for, when it arrived more than `tolerance` early; else None."""
    if not due:
        return None
    at = clock.parse_iso(due)
    return at if at > now + tolerance else None
