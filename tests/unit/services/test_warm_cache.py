"""A warm container's cached agents and batches age on the service's clock, not the machine's."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from chalicelib.services.warm_cache import WarmCache

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Loads:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"value {self.count}"


def test_a_value_is_kept_until_the_clock_moves_past_its_age_however_long_the_machine_took() -> None:
    # Given a cache of 30 s on a stopped clock
    cache: WarmCache[str, str] = WarmCache(seconds=30)
    load = Loads()
    with time_machine.travel(START, tick=False) as traveller:
        first = cache.get("agent", load)
        # When the clock has not moved (however slow the machine) and then moves 29 s
        traveller.shift(29)
        # Then the kept value answers without a read
        assert cache.get("agent", load) == first and load.count == 1
        # When it moves past 30 s
        traveller.shift(2)
        # Then it is read again
        assert cache.get("agent", load) == "value 2" and load.count == 2


def test_a_step_back_of_the_clock_reads_again() -> None:
    cache: WarmCache[str, str] = WarmCache(seconds=30)
    load = Loads()
    with time_machine.travel(START, tick=False) as traveller:
        cache.get("agent", load)
        traveller.shift(-1)
        assert cache.get("agent", load) == "value 2"


def test_fresh_reads_now_and_a_value_not_kept_is_read_every_time() -> None:
    cache: WarmCache[str, str] = WarmCache(seconds=30)
    load = Loads()
    with time_machine.travel(START, tick=False):
        cache.get("agent", load)
        assert cache.get("agent", load, fresh=True) == "value 2"
        assert cache.get("agent", load) == "value 2"  # the fresh read is kept
        refused = Loads()
        cache.get("batch", refused, keep=lambda value: False)
        cache.get("batch", refused, keep=lambda value: False)
        assert refused.count == 2 and len(cache) == 1


def test_a_full_cache_starts_over() -> None:
    cache: WarmCache[int, str] = WarmCache(seconds=30, size=2)
    with time_machine.travel(START, tick=False):
        for key in range(3):
            cache.get(key, Loads())
        assert len(cache) == 1
