"""Per-number contact limits: at most N attempts per number in any D days, across every batch of a tenant.

How the window is counted (a sliding window, not calendar days): an attempt is a dial claim (the
moment the dialer takes the call, whatever its outcome); the number's item keeps the times of its
claims, newest first. A claim at `now` is allowed when fewer than N claims happened after
`now - D days`, i.e. when the N-th most recent claim is at or before that instant (or there are
fewer than N). The claim checks this in its own transaction, so two batches racing for one number
cannot both take the last slot. A contact over the limit can be called again at
`N-th most recent claim + D days`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_ATTEMPTS = 100
MAX_DAYS = 365


@dataclass(frozen=True)
class ContactLimit:
    attempts: int  # N
    days: int  # D

    def window_start(self, now: datetime) -> int:
        """Epoch seconds: claims at or before this no longer count."""
        return int((now - timedelta(days=self.days)).timestamp())

    def frees_at(self, history: list[int]) -> datetime | None:
        """When the next slot opens, given the claim times newest first; None when one is free already."""
        if len(history) < self.attempts:
            return None
        return datetime.fromtimestamp(history[self.attempts - 1], UTC) + timedelta(days=self.days)


def limit_of(attempts: object, days: object) -> ContactLimit | None:
    """An agent's limit (`max_attempts_per_number`, `attempt_window_days`), when both are set."""
    if isinstance(attempts, int) and isinstance(days, int) and attempts > 0 and days > 0:
        return ContactLimit(attempts, days)
    return None


@dataclass(frozen=True)
class NumberState:
    """What a tenant's item for one number says: its do-not-call entry (if any) and its claim times."""

    suppressed: bool = False  # an entry exists (it may have expired: see suppressed_at)
    suppressed_until: str | None = None  # ISO 8601; None with `suppressed`: for good
    attempts: tuple[int, ...] = ()  # claim times, epoch seconds, newest first

    def suppressed_at(self, moment: datetime) -> bool:
        """Whether the entry is in force at `moment` (an expired entry no longer suppresses)."""
        if not self.suppressed:
            return False
        return self.suppressed_until is None or datetime.fromisoformat(self.suppressed_until) > moment
