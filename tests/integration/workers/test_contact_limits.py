"""Per-number contact limits hold across batches, atomically at claim time: two batches racing for the same
numbers make at most N attempts per number in the window; a contact over its limit waits for the window
when it frees soon enough, else ends `contact_limited`. Dials are counted at the (scripted) provider."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta

from chalice.test import Client

from chalicelib.services.container import Dependencies
from tests.support.batches import create_and_run, make_batch, patch_agent
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider


def number(i: int) -> str:
    return f"+1202555{100 + i:04d}"


def completed(deps: Dependencies, *batch_ids: str) -> bool:
    return all(getattr(deps.batches.find(b), "status", None) == "completed" for b in batch_ids)


def race_two_batches(client: Client, tenant: tuple[str, str], pump: Pump, n: int) -> tuple[str, str]:
    """Two batches over the same n numbers, dispatched, then several dialers over both at once."""
    first, auth = make_batch(client, tenant, n)
    second, _ = make_batch(client, tenant, n)
    for batch_id in (first, second):
        assert client.http.post(f"/batches/{batch_id}/run", headers=auth).status_code == 200
    while pump.step("dispatcher"):
        pass
    rng = random.Random(4)
    threads = [
        threading.Thread(target=lambda: [pump.step("dialer") for _ in range(5)]) for _ in range(rng.randint(3, 6))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return first, second


def test_the_limit_holds_across_two_batches_racing_for_the_same_numbers(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given at most 1 attempt per number per 7 days (beyond CONTACT_LIMIT_MAX_WAIT_HOURS' 72 h)
    patch_agent(client, tenant, max_attempts_per_number=1, attempt_window_days=7, max_concurrent_calls=50)
    # When two batches over the same 12 numbers are dialled at once
    first, second = race_two_batches(client, tenant, pump, 12)
    pump.run(until=lambda: completed(deps, first, second), advance_seconds=2)
    # Then every number was dialled exactly once, and its other execution ended contact_limited
    assert Counter(to for to, _, _ in scripted.dials) == {number(i): 1 for i in range(12)}
    ends = Counter(e.status for b in (first, second) for e in deps.executions.iter_batch(b))
    assert ends == {"completed": 12, "contact_limited": 12}
    assert all(len(deps.numbers.history("tenant-a", number(i))) == 1 for i in range(12))


def test_a_contact_over_its_limit_waits_for_the_window_when_it_frees_soon(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given at most 2 attempts per number per day, and a number already called twice by earlier batches
    patch_agent(client, tenant, max_attempts_per_number=2, attempt_window_days=1)
    for _ in range(2):
        earlier, _ = make_batch(client, tenant, 1)
        client.http.post(f"/batches/{earlier}/run", headers={"Authorization": f"Bearer {tenant[0]}"})
        pump.run(until=lambda b=earlier: completed(deps, b), advance_seconds=2)  # type: ignore[misc]
    assert len(scripted.dials) == 2
    # When a third batch reaches it
    batch_id, _ = create_and_run(client, tenant, 1)
    pump.run(until=lambda: any(e.status == "rescheduled" for e in deps.executions.iter_batch(batch_id)))
    # Then it waits, rescheduled to when the older of the two attempts leaves the window
    waiting = next(iter(deps.executions.iter_batch(batch_id)))
    history = deps.numbers.history("tenant-a", number(0))
    assert len(scripted.dials) == 2 and len(history) == 2
    assert (waiting.scheduled_at or "").startswith(_iso_seconds(history[1] + 86400))
    # And it is dialled once that moment has passed
    pump.advance(timedelta(days=1, minutes=1).total_seconds())
    pump.run(until=lambda: completed(deps, batch_id), advance_seconds=60)
    assert len(scripted.dials) == 3
    assert (scripted.dials[2][2] - scripted.dials[0][2]) >= timedelta(days=1)


def _iso_seconds(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_without_a_limit_attempts_are_recorded_but_nothing_waits(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    first, second = race_two_batches(client, tenant, pump, 3)
    pump.run(until=lambda: completed(deps, first, second), advance_seconds=2)
    assert len(scripted.dials) == 6
    assert len(deps.numbers.history("tenant-a", number(0))) == 2
