"""The sweeper's safety net for a lost wake-up (services/wake_rearm.py), on the controllable clock: a call that
must wait for its calling hours is always woken, at least once, and dialled at most once."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from chalice.test import Client

import chalicelib.services.dial_waits as dial_waits
from chalicelib.services import sweeping
from chalicelib.services.container import Dependencies
from tests.integration.workers.test_calling_rules import US, dials_to, executions, start_batch, utc
from tests.support.batches import patch_agent
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider


@pytest.fixture
def lost(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Wake-ups that never arrive (a schedule that never fires, a crash before it was made): kept to send late."""
    kept: list[tuple[Any, ...]] = []
    monkeypatch.setattr(dial_waits, "later", lambda *args: kept.append(args))
    return kept


def test_a_rescheduled_call_whose_wake_up_was_lost_is_woken_by_the_sweeper_and_dialled_once(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    lost: list[tuple[Any, ...]],
) -> None:
    # Given a call outside 09-21 (07:00 EST), moved to `rescheduled` for 09:00 EST, whose wake-up is lost
    patch_agent(client, tenant, call_start_hour=9, call_end_hour=21)
    with time_machine.travel(utc(2026, 11, 30, 12), tick=False):
        pump.freeze()
        batch_id, auth = start_batch(client, tenant, [US])
        pump.run()
        assert executions(client, batch_id, auth)[US]["status"] == "rescheduled" and len(lost) == 1
        # When the sweeper runs at 09:05 EST (inside the grace: the wake-up may be on its way), then at 09:11
        pump.advance(2 * 3600 + 5 * 60)
        assert sweeping.sweep_once(deps).rearmed_wakes == 0
        pump.advance(6 * 60)
        assert sweeping.sweep_once(deps).rearmed_wakes == 1
        pump.run()
        # Then the call is dialled, once; the lost wake-up arriving late, and later sweeps, dial nothing more
        [at] = dials_to(scripted, US)
        assert utc(2026, 11, 30, 14, 11) <= at < utc(2026, 11, 30, 14, 12)
        deps.queues.send(dial_waits.DIAL_QUEUE, lost[0][1].again(not_before=None))
        pump.advance(3600)
        assert sweeping.sweep_once(deps).rearmed_wakes == 0
        pump.run()
    assert len(dials_to(scripted, US)) == 1
    assert executions(client, batch_id, auth)[US]["status"] == "completed"


def test_a_sweeper_that_dies_after_re_arming_a_wake_up_re_arms_it_again_after_the_grace(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    lost: list[tuple[Any, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a rescheduled call whose wake-up was lost, and a sweeper that dies before sending the new one
    patch_agent(client, tenant, call_start_hour=9, call_end_hour=21)
    with time_machine.travel(utc(2026, 11, 30, 12), tick=False):
        pump.freeze()
        start_batch(client, tenant, [US])
        pump.run()
        pump.advance(2 * 3600 + 11 * 60)
        send = deps.queues.send
        monkeypatch.setattr(deps.queues, "send", lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("died")))
        assert sweeping.sweep_once(deps).failures == 1
        monkeypatch.setattr(deps.queues, "send", send)
        # When the next sweeps run: within the grace of that try nothing is sent, after it the wake-up is
        pump.advance(60)
        assert sweeping.sweep_once(deps).rearmed_wakes == 0
        pump.advance(10 * 60)
        assert sweeping.sweep_once(deps).rearmed_wakes == 1
        pump.run()
    # Then the call is dialled once
    assert len(dials_to(scripted, US)) == 1
