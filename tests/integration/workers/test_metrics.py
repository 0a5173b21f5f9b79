"""Metrics the operator's dashboard (infra/monitoring.py) reads, counted where the work happens."""

from __future__ import annotations

from collections import Counter

import pytest
from chalice.test import Client

from chalicelib.services import dialing, sweeping
from chalicelib.services.container import Dependencies
from tests.support.batches import create_and_run, patch_agent
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider


def test_dials_handed_back_at_the_live_call_cap_are_counted(
    client: Client, tenant: tuple[str, str], pump: Pump, scripted: ScriptedProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: Counter[str] = Counter()
    monkeypatch.setattr(dialing, "count", lambda name, value=1, *_: counted.update({name: value}))
    # Given an agent allowed one live call, and calls that never report back (so its one slot stays taken)
    patch_agent(client, tenant, max_concurrent_calls=1)
    scripted.report = False
    create_and_run(client, tenant, 3)
    # When the dialer goes through every dial message
    while pump.step("dispatcher"):
        pass
    for _ in range(3):
        pump.step("dialer")
    # Then one call was placed and the other two, handed back to wait for the slot, were counted as such
    assert counted["CallsPlaced"] == 1
    assert counted["CallsWaitingForSlot"] >= 2


def test_the_sweeper_publishes_how_many_calls_are_live(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    published: list[tuple[str, float]] = []
    monkeypatch.setattr(sweeping, "count", lambda name, value=1, *_: published.append((name, value)))
    # Given two calls placed that have not reported back (each holds a live-call slot)
    patch_agent(client, tenant, max_concurrent_calls=5)
    scripted.report = False
    create_and_run(client, tenant, 2)
    while pump.step("dispatcher"):
        pass
    while pump.step("dialer"):
        pass
    # When the sweeper runs, Then it publishes the live calls as a gauge
    assert sweeping.sweep_once(deps).live_calls == 2
    assert ("LiveCalls", 2) in published
