"""Values a warm container keeps for a while (agents, running batches), aged on the service's clock.

Their age is read from `clock.now()`, the clock every rule of the service reads, not from the machine's
monotonic counter: a test or a chaos seed that moves the clock ages them with it, so whether a handler reads an
item again (one more AWS call, one more point a fault can hit) depends on the campaign's time, never on how
fast the machine ran it. A step back of the wall clock counts as expired.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from .. import clock

K = TypeVar("K")
V = TypeVar("V")


def _always(_value: object) -> bool:
    return True


class WarmCache(Generic[K, V]):
    """At most `size` values, each kept `seconds` after it was read (all dropped when full: reads are cheap)."""

    def __init__(self, seconds: float, size: int = 1024) -> None:
        self.seconds = seconds
        self.size = size
        self._entries: dict[K, tuple[datetime, V]] = {}

    def get(self, key: K, load: Callable[[], V], *, fresh: bool = False, keep: Callable[[V], bool] = _always) -> V:
        """The kept value of `key` while it is young enough, else `load()`'s (kept when `keep` says so; `fresh`:
        load now)."""
        now = clock.now()
        hit = self._entries.get(key)
        if hit is not None and not fresh and timedelta(0) <= now - hit[0] < timedelta(seconds=self.seconds):
            return hit[1]
        value = load()
        if not keep(value):
            self._entries.pop(key, None)
            return value
        if len(self._entries) >= self.size and key not in self._entries:
            self._entries.clear()
        self._entries[key] = (now, value)
        return value

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
