"""Batches of one agent running at once: each keeps its own exact counts, a pause of one holds only that one,
and together they never pass the agent's live-call limit."""

from __future__ import annotations

import json
from collections import Counter

from chalice.test import Client

from chalicelib.services.container import Dependencies
from chalicelib.store.leases import agent_key
from tests.support.api import post_csv
from tests.support.batches import is_completed, patch_agent
from tests.support.invariants import check_campaign
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider

LIMIT = 4


def run_batch(client: Client, tenant: tuple[str, str], first: int, n: int) -> str:
    """A batch of `n` contacts of its own (numbers from `first` on), created and run."""
    key, agent_id = tenant
    rows = "".join(f"+1202555{first + i:04d},Name{i}\n" for i in range(n))
    created = post_csv(client, key, {"agent_id": agent_id}, f"contact_number,customer_name\n{rows}".encode())
    assert created.status_code == 201, created.body
    batch_id = str(json.loads(created.body)["batch_id"])
    ran = client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"})
    assert ran.status_code == 200, ran.body
    return batch_id


def counted(deps: Dependencies, batch_id: str) -> dict[str, int]:
    """A batch's per-status counts as its read (`GET /batches/{id}`) sums them, zeros left out."""
    batch = deps.batches.find(batch_id)
    assert batch is not None
    return {status: n for status, n in (batch.execution_status or {}).items() if n}


def statuses(deps: Dependencies, batch_id: str) -> dict[str, int]:
    """What the batch's executions themselves say."""
    return dict(Counter(str(e.status) for e in deps.executions.iter_batch(batch_id)))


def test_each_batch_of_an_agent_counts_its_own_live_calls_and_together_they_hold_its_limit(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given an agent allowing 4 live calls, three of its batches running at once, and calls that do not end yet
    patch_agent(client, tenant, max_concurrent_calls=LIMIT)
    scripted.report = False
    batches = [run_batch(client, tenant, 100 * b, n) for b, n in enumerate((5, 3, 4), start=1)]
    # When every dial message is taken, by turns, until no slot is left
    while pump.step("dispatcher"):
        pass
    for _ in range(3):
        pump.step("dialer")
    # Then the agent holds exactly its limit, spread over the batches, and each batch counts exactly its own
    assert len(scripted.dials) == LIMIT
    assert deps.leases.live(agent_key("tenant-a", tenant[1])) == LIMIT
    for batch_id in batches:
        assert counted(deps, batch_id) == statuses(deps, batch_id)
    assert sum(statuses(deps, b).get("initiated", 0) for b in batches) == LIMIT


def test_pausing_one_batch_of_an_agent_holds_it_alone_and_its_resume_finishes_it(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given an agent allowing 4 live calls and three of its batches dispatched at once
    patch_agent(client, tenant, max_concurrent_calls=LIMIT)
    paused, *others = [run_batch(client, tenant, 100 * b, 6) for b in (1, 2, 3)]
    while pump.step("dispatcher"):
        pass
    auth = {"Authorization": f"Bearer {tenant[0]}"}
    # When one is paused before any of its calls is placed
    assert client.http.post(f"/batches/{paused}/pause", headers=auth).status_code == 200
    pump.run(until=lambda: all(is_completed(deps, b) for b in others), advance_seconds=2)
    # Then the other two called every contact and completed, and the paused one placed no call, its count intact
    assert {number[-4:-2] for number, _, _ in scripted.dials} == {"02", "03"}
    assert len(scripted.dials) == 12
    for batch_id in others:
        assert counted(deps, batch_id) == statuses(deps, batch_id) == {"completed": 6}
    held = deps.batches.find(paused)
    assert held is not None and held.status == "paused"
    assert counted(deps, paused) == statuses(deps, paused) == {"queued": 6}
    # When it is resumed, Then it finishes too, each contact called once, never past the agent's limit
    assert client.http.post(f"/batches/{paused}/resume", headers=auth).status_code == 200
    pump.run(until=lambda: is_completed(deps, paused), advance_seconds=2)
    assert len(scripted.dials) == 18 and len({number for number, _, _ in scripted.dials}) == 18
    pump.run()
    assert check_campaign(deps, [paused, *others]) == []
