"""A small batch's per-call counters kept on its agent's live-call shards (issue 17 item 1: 15 table write units per
answered call): a claim is three transaction elements and an outcome two, counts stay exact when claims and outcomes
race, the batch completes once, a claim that lands after a pause or a stop is refused by the batch's halted marker,
and a batch with its own cap (or an agent whose shards already carry their share of batches) counts as before."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.services.container import Dependencies
from chalicelib.services.sweeping import sweep_once
from chalicelib.store import batches
from chalicelib.store.batches import CO_SHARDS, HALTED, co_tag, live_shard_key
from chalicelib.store.dynamo import av, from_item
from chalicelib.store.execution_item import CO_COUNTED
from tests.support.batches import dispatched_batch
from tests.support.item_size import item_size
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider

from .test_batch_shards import count_completions, race


def agent_shards(deps: Dependencies, tenant_id: str, agent_id: str) -> dict[int, dict[str, Any]]:
    """Each live-call counter item of the agent as stored (those written), in wire form."""
    found = {}
    for shard in range(CO_SHARDS):
        key = {"agent_key": av(live_shard_key(f"{tenant_id}#{agent_id}", shard)), "lease_id": av("live")}
        item = aws.dynamodb().get_item(TableName=deps.leases.table, Key=key).get("Item")
        if item:
            found[shard] = item
    return found


def batch_item(deps: Dependencies, batch_id: str) -> dict[str, Any]:
    return from_item(aws.dynamodb().get_item(TableName=deps.batches.table, Key=deps.batches.key(batch_id))["Item"])


def transactions() -> list[list[dict[str, Any]]]:
    """Each transaction's elements (their bodies) from now on."""
    seen: list[list[dict[str, Any]]] = []

    def note(params: dict[str, Any], **_: Any) -> None:
        seen.append([next(iter(e.values())) for e in params["TransactItems"]])

    aws.dynamodb().meta.events.register("provide-client-params.dynamodb.TransactWriteItems", note)
    return seen


@pytest.mark.parametrize("seed", [1, 2])
def test_a_small_batchs_counts_stay_exact_on_its_agents_shards_when_calls_race_and_it_completes_once(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
) -> None:
    # Given a small batch (no cap, no budget) on an agent with three live-call shards, its contacts dispatched
    completions = count_completions(deps, monkeypatch)
    n = 20 + 4 * seed
    batch_id, auth = dispatched_batch(client, tenant, pump, n, agent_limit=100)
    # When dialers and outcome handlers race over every call
    race(pump, steps=8)
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    # Then every call was counted on its agent's shards
    batch = deps.batches.find(batch_id)
    assert batch is not None and batch.co_key == f"tenant-a#{tenant[1]}" and batch.counter_shards == 0
    assert all((e.model_extra or {}).get(CO_COUNTED) for e in deps.executions.iter_batch(batch_id))
    # And the sums are exact, the agent's and the batch's live calls back to 0
    assert batch.execution_status == {"queued": 0, "initiated": 0, "completed": n}
    assert (batch.finished, batch.dispatched, batch.live, batch.ended_calls) == (n, n, 0, n)
    assert deps.leases.live(f"tenant-a#{tenant[1]}") == 0
    # And GET /batches/{id} reports them, and the batch completed exactly once
    body = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert body["execution_status"] == {"completed": n} and body["status"] == "completed"
    assert completions == [batch_id]
    assert len(scripted.dials) == n


def test_a_completed_batchs_counters_leave_its_agents_shards_for_its_item(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a small batch counting on its agent's shards, one call failing, one with an extraction tally
    scripted.script[(1, 1)] = "failed"
    batch_id, auth = dispatched_batch(client, tenant, pump, 4, agent_limit=100)
    tag = co_tag(batch_id)
    while pump.step("dialer"):
        pass
    assert any(n.startswith(tag) for s in agent_shards(deps, "tenant-a", tenant[1]).values() for n in s)
    before = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    # When every call ends and the batch completes, Then it stays in the sweeper's index, its counters on the shards
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    assert batch_item(deps, batch_id)["active"] == "1" and "co_folded" not in batch_item(deps, batch_id)
    # When the sweeper passes
    assert sweep_once(deps).folded_batches == 1
    # Then no shard holds any of its attributes (nor its marker): they are on its item, which GET reports alone,
    # and it has left the sweeper's index (the next sweep folds nothing)
    assert "active" not in batch_item(deps, batch_id) and sweep_once(deps).folded_batches == 0
    assert not any(n.startswith(tag) for s in agent_shards(deps, "tenant-a", tenant[1]).values() for n in s)
    item = batch_item(deps, batch_id)
    assert item["co_folded"] and item["execution_status"] == {"queued": 0, "initiated": 0, "completed": 3, "failed": 1}
    assert (item["finished"], item["ended_calls"], item.get("live", 0)) == (4, 4, 0)
    body = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert before["execution_status"] == {"initiated": 4}
    assert body["execution_status"] == {"completed": 3, "failed": 1} and body["status"] == "completed"
    assert deps.leases.live(f"tenant-a#{tenant[1]}") == 0


def test_a_claim_writes_three_items_and_an_outcome_two_none_of_them_the_batch_item(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a small batch of 6 dispatched, one call of which stays ringing (so no outcome is the batch's last)
    batch_id, _ = dispatched_batch(client, tenant, pump, 6, agent_limit=10)
    scripted.script[(5, 1)] = "ringing"
    written = transactions()
    # When every call is claimed, placed, and all but one end
    while pump.step("dialer") or pump.step("provider_events"):
        pass
    # Then each claim was one transaction of 3 elements (execution, number, agent shard) and each outcome one of 2
    # (execution, agent shard): the batch item took none of them
    assert sorted(e.status for e in deps.executions.iter_batch(batch_id)) == ["completed"] * 5 + ["ringing"]
    assert Counter(len(t) for t in written) == {3: 6, 2: 5}
    assert not [b for t in written for b in t if b["TableName"] == deps.batches.table]


@pytest.mark.parametrize(("command", "status"), [("pause", "paused"), ("stop", "stopped")])
def test_a_claim_whose_transaction_lands_after_a_pause_or_stop_commits_is_refused_by_the_halted_marker(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    command: str,
    status: str,
) -> None:
    # Given a small batch running on its agent's shards, its contacts dispatched
    batch_id, auth = dispatched_batch(client, tenant, pump, 3, agent_limit=100)
    halted = co_tag(batch_id) + HALTED
    answers: list[int] = []

    def command_first(params: dict[str, Any], **_: Any) -> None:
        # the claim's transaction is built (the batch ran when the dialer read its message), and the command
        # commits just before it is sent
        claim = any(
            "attribute_not_exists(#h)" in e.get("Update", {}).get("ConditionExpression", "")
            for e in params["TransactItems"]
        )  # the claim counts on its agent's shard only while the batch's halted marker is absent there
        if not answers and claim:
            answers.append(client.http.post(f"/batches/{batch_id}/{command}", headers=auth).status_code)

    aws.dynamodb().meta.events.register("provide-client-params.dynamodb.TransactWriteItems", command_first)
    # When the dialer claims
    while pump.step("dialer"):
        pass
    # Then the command won: no call was placed or counted, every shard key of the agent carries the marker
    assert answers == [200]
    assert scripted.dials == []
    batch = deps.batches.find(batch_id)
    assert batch is not None and batch.status == status and batch.live == 0
    assert batch.execution_status.get("initiated", 0) == 0
    shards = agent_shards(deps, "tenant-a", tenant[1])
    assert set(shards) == set(range(CO_SHARDS)) and all(halted in s for s in shards.values())
    if command == "pause":
        # And once resumed, the marker is gone, every call is placed and the batch completes
        assert client.http.post(f"/batches/{batch_id}/resume", headers=auth).status_code == 200
        assert not any(halted in s for s in agent_shards(deps, "tenant-a", tenant[1]).values())
        pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=5)  # type: ignore[union-attr]
        assert len(scripted.dials) == 3
    else:
        # And the stopped batch settles: every contact canceled, counted once, and it leaves the sweeper's index
        pump.run(until=lambda: not deps.batches.find(batch_id).active, advance_seconds=5)  # type: ignore[union-attr]
        done = deps.batches.find(batch_id)
        assert done is not None and done.execution_status.get("canceled") == 3 and done.finished == 3
        # and its marker left the agent's shards with its counters (folded into its item once it closed)
        assert not any(halted in s for s in agent_shards(deps, "tenant-a", tenant[1]).values())


@pytest.mark.parametrize("why", ["own-cap", "agent-full"])
def test_a_batch_with_its_own_cap_or_whose_agent_carries_enough_batches_counts_on_its_item(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
    why: str,
) -> None:
    # Given a small batch with its own live-call cap, or one whose agent's shards already carry their share
    if why == "agent-full":
        monkeypatch.setattr(batches, "MAX_CO_BATCHES", 1)
        scripted.report = False  # its calls stay live: its counters are on the agent's shard
        first, _ = dispatched_batch(client, tenant, pump, 2, agent_limit=10)
        while pump.step("dialer"):
            pass
        assert deps.batches.find(first).co_key and deps.batches.find(first).live == 2  # type: ignore[union-attr]
        scripted.report = True
    fields = {"max_concurrent_calls": "2"} if why == "own-cap" else {}
    batch_id, _ = dispatched_batch(client, tenant, pump, 4, agent_limit=10, **fields)
    # When it runs to the end
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    # Then it counted on its own item, as every batch did before, exactly
    batch = deps.batches.find(batch_id)
    assert batch is not None and batch.co_key is None
    assert not any((e.model_extra or {}).get(CO_COUNTED) for e in deps.executions.iter_batch(batch_id))
    assert batch_item(deps, batch_id)["execution_status"] == {"queued": 0, "initiated": 0, "completed": 4}
    assert not any(co_tag(batch_id) in name for s in agent_shards(deps, "tenant-a", tenant[1]).values() for name in s)


def test_an_agent_shard_carrying_its_share_of_batches_stays_under_one_kilobyte(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given an agent with one live-call shard, and as many batches as its shards carry, each with calls in a
    # different mix of statuses (answered, failed, no answer, and one still ringing: none completes)
    scripted.script.update({(0, 1): "ringing", (1, 1): "failed", (2, 1): "no-answer"})
    ids = [dispatched_batch(client, tenant, pump, 4, agent_limit=20)[0] for _ in range(batches.MAX_CO_BATCHES)]
    # When every call is claimed and reports
    while pump.step("dialer") or pump.step("provider_events"):
        pass
    # Then each counted there, and the shard item is still under 1 KB (one write unit a write)
    assert all(deps.batches.find(b).co_key for b in ids)  # type: ignore[union-attr]
    (shard,) = agent_shards(deps, "tenant-a", tenant[1]).values()
    assert {name[:8] for name in shard if name not in ("agent_key", "lease_id", "live")} == {co_tag(b) for b in ids}
    assert item_size(shard) < 1024


def test_details_reported_after_the_fold_count_on_the_batch_item_and_leave_nothing_on_the_agents_shards(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a small batch counting on its agent's shards, completed and folded into its item by the sweeper
    batch_id, _ = dispatched_batch(client, tenant, pump, 2, agent_limit=100)
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    sweep_once(deps)
    assert batch_item(deps, batch_id)["co_folded"]
    execution = next(iter(deps.executions.iter_batch(batch_id)))
    # When one call's extraction is reported after that (Bolna's `completed` after `call-disconnected`)
    tally = "xb#interested#yes"
    added = deps.executions.add_details(execution, {"extracted_data": {"interested": "yes"}}, tallies={tally: 1})
    # Then it is recorded, its tally counted on the batch's item, and no shard holds an attribute of the batch
    assert added
    assert batch_item(deps, batch_id)[tally] == 1
    tag = co_tag(batch_id)
    assert not any(n.startswith(tag) for s in agent_shards(deps, "tenant-a", tenant[1]).values() for n in s)
    # And a repeat of the report changes nothing
    again = deps.executions.find(execution.execution_id)
    assert again is not None
    assert not deps.executions.add_details(again, {"extracted_data": {"interested": "yes"}}, tallies={tally: 1})
    assert batch_item(deps, batch_id)[tally] == 1
