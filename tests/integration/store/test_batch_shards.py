"""A large batch's per-call counters split into shard items summed on read (issue 17: no hot batch key): counts stay
exact when claims and outcomes race across shards, the batch completes exactly once, a batch with a live-call cap
keeps its counters (and its exact cap) on its item, and a batch started before shards still counts and completes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.domain.batch_status import BatchStatus
from chalicelib.domain.records import Agent, Batch
from chalicelib.providers.simulator import SimulatorProvider
from chalicelib.services.container import Dependencies
from chalicelib.store import batches
from chalicelib.store.batches import RUN_STATUS, SHARD_FIELD, counter_key
from chalicelib.store.dynamo import av, from_item
from chalicelib.workers.sweeper import sweep
from tests.support.batches import create_and_run, patch_agent, running_sharded_batch
from tests.support.faults import conflict_once
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider


def shard_items(deps: Dependencies, batch_id: str) -> dict[int, dict[str, Any]]:
    """Each counter shard's item as stored (those written)."""
    found = {}
    for shard in range(1, batches.COUNTER_SHARDS + 1):
        item = aws.dynamodb().get_item(TableName=deps.batches.table, Key={"batch_id": av(counter_key(batch_id, shard))})
        if "Item" in item:
            found[shard] = from_item(item["Item"])
    return found


def count_completions(deps: Dependencies, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The batch ids each successful transition to `completed` returned (one per winner)."""
    won: list[str] = []
    transition: Callable[..., Batch] = deps.batches.transition

    def counted(batch_id: str, allowed: Any, to: BatchStatus, **kw: Any) -> Batch:
        batch = transition(batch_id, allowed, to, **kw)
        if to == BatchStatus.COMPLETED:
            won.append(batch_id)
        return batch

    monkeypatch.setattr(deps.batches, "transition", counted)
    return won


def batch_item_writes(deps: Dependencies) -> list[str]:
    """Each write (or transaction element, ConditionCheck included) on the batch table's items, by key, from now on."""
    keys: list[str] = []

    def note(params: dict[str, Any], **_: Any) -> None:
        bodies = [next(iter(e.values())) for e in params.get("TransactItems", [])] or [params]
        keys.extend(str(b["Key"]["batch_id"]["S"]) for b in bodies if b.get("TableName") == deps.batches.table)

    for operation in ("TransactWriteItems", "UpdateItem", "PutItem"):
        aws.dynamodb().meta.events.register(f"provide-client-params.dynamodb.{operation}", note)
    return keys


def race(pump: Pump, steps: int, threads: int = 4) -> None:
    """Dialers and provider-event handlers run at once, as Lambda's concurrent invocations would."""

    def work() -> None:
        for _ in range(steps):
            pump.step("dialer")
            pump.step("provider_events")

    running = [threading.Thread(target=work) for _ in range(threads)]
    for t in running:
        t.start()
    for t in running:
        t.join()


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_stay_exact_when_claims_and_outcomes_race_across_shards_and_it_completes_once(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
) -> None:
    # Given a batch large enough for counter shards (the threshold lowered), its contacts dispatched
    completions = count_completions(deps, monkeypatch)
    n = 20 + 4 * seed
    batch_id, auth = running_sharded_batch(client, tenant, pump, monkeypatch, n)
    # When dialers and outcome handlers race over every call
    race(pump, steps=8)
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    # Then the calls were counted in several shards, and the sums are exact
    shards = shard_items(deps, batch_id)
    used = {int(e.model_extra[SHARD_FIELD]) for e in deps.executions.iter_batch(batch_id)}  # type: ignore[index]
    assert len(used) > 1 and used <= set(shards) == set(range(1, batches.COUNTER_SHARDS + 1))
    assert {s[RUN_STATUS] for s in shards.values()} == {"completed"}  # each shard's copy of the batch's status
    batch = deps.batches.find(batch_id)
    assert batch is not None and batch.counter_shards == batches.COUNTER_SHARDS
    assert batch.execution_status == {"queued": 0, "initiated": 0, "completed": n}
    assert (batch.finished, batch.dispatched, batch.live, batch.ended_calls) == (n, n, 0, n)
    assert all(int(s.get("live", 0)) == 0 for s in shards.values())
    # And GET /batches/{id} reports them, and the batch completed exactly once
    body = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert body["execution_status"] == {"completed": n} and body["status"] == "completed"
    assert completions == [batch_id]
    assert len(scripted.dials) == n


def test_a_started_batch_no_longer_writes_its_item_for_each_call_outcome(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a sharded batch running, its calls dispatched and claimed
    scripted.report = False
    batch_id, _ = running_sharded_batch(client, tenant, pump, monkeypatch, 6)
    while pump.step("dialer"):
        pass
    before = deps.batches.find(batch_id)
    assert before is not None and before.live == 6 and before.execution_status["initiated"] == 6
    item = from_item(aws.dynamodb().get_item(TableName=deps.batches.table, Key=deps.batches.key(batch_id))["Item"])
    # Then the claims moved no counter on the batch item (it holds the dispatch's counts only)
    assert "live" not in item and item["execution_status"] == {"queued": 6}


def test_no_call_writes_or_checks_the_batch_item_of_a_sharded_batch_only_its_own_shard(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a sharded batch running, its contacts dispatched
    batch_id, _ = running_sharded_batch(client, tenant, pump, monkeypatch, 10)
    # When every call is claimed, placed and ends (but one, still ringing: none is the batch's last)
    scripted.script[(9, 1)] = "ringing"
    written = batch_item_writes(deps)
    while pump.step("dialer") or pump.step("provider_events"):
        pass
    # Then the claims and outcomes wrote (or checked) only counter shards, never the batch item
    statuses = sorted(e.status for e in deps.executions.iter_batch(batch_id))
    assert statuses == ["completed"] * 9 + ["ringing"]
    assert written and batch_id not in written
    assert set(written) <= {counter_key(batch_id, n) for n in range(1, batches.COUNTER_SHARDS + 1)}


def test_a_claim_whose_transaction_lands_after_a_pause_commits_is_refused_by_its_shard(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a sharded batch running, its contacts dispatched
    batch_id, auth = running_sharded_batch(client, tenant, pump, monkeypatch, 3)
    paused: list[int] = []

    def pause_first(params: dict[str, Any], **_: Any) -> None:
        # the claim's transaction is built (its shard said running when the dialer read the message) and the
        # pause commits just before it is sent
        claim = any(
            ":running" in e.get("Update", {}).get("ExpressionAttributeValues", {}) for e in params["TransactItems"]
        )
        if not paused and claim:  # the claim counts on its batch shard only while that shard's run status is running
            paused.append(client.http.post(f"/batches/{batch_id}/pause", headers=auth).status_code)

    aws.dynamodb().meta.events.register("provide-client-params.dynamodb.TransactWriteItems", pause_first)
    # When the dialer claims
    while pump.step("dialer"):
        pass
    # Then the pause won: no call was placed or counted, every shard says paused
    assert paused == [200]
    assert scripted.dials == []
    batch = deps.batches.find(batch_id)
    assert batch is not None and batch.status == "paused" and batch.execution_status == {"queued": 3}
    assert {s[RUN_STATUS] for s in shard_items(deps, batch_id).values()} == {"paused"}
    # And once resumed, every call is placed and the batch completes
    assert client.http.post(f"/batches/{batch_id}/resume", headers=auth).status_code == 200
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=5)  # type: ignore[union-attr]
    assert len(scripted.dials) == 3


def test_a_batch_with_a_live_call_cap_keeps_its_counters_on_its_item_and_its_cap_exact(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a large batch with its own cap of 3 live calls, and calls that never report
    scripted.report = False
    batch_id, _ = running_sharded_batch(client, tenant, pump, monkeypatch, 12, agent_limit=50, max_concurrent_calls="3")
    # When several dialers race over every message
    race(pump, steps=5)
    # Then exactly 3 calls were placed, counted on the batch item (no shards), never more
    batch = deps.batches.find(batch_id)
    assert batch is not None and batch.counter_shards == 0 and not shard_items(deps, batch_id)
    assert len(scripted.dials) == 3 == batch.live


def test_a_batch_started_before_counter_shards_still_counts_and_completes_once(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a batch started as every batch was before shards (its counters on its item), its calls live
    patch_agent(client, tenant, max_concurrent_calls=100)
    scripted.report = False
    completions = count_completions(deps, monkeypatch)
    batch_id, _ = create_and_run(client, tenant, 5)
    while pump.step("dispatcher") or pump.step("dialer"):
        pass
    assert deps.batches.find(batch_id).counter_shards == 0  # type: ignore[union-attr]
    # When the new code (which would shard a batch this size) ends its calls: the sweeper, no report came
    monkeypatch.setattr(batches, "SHARD_MIN_CONTACTS", 1)
    pump.advance(deps.settings.call_report_timeout_seconds + 60)
    assert sweep(deps).unreported == 5
    # Then every count is on its item, exact, and it completed once
    batch = deps.batches.find(batch_id)
    assert batch is not None and not shard_items(deps, batch_id)
    assert (batch.finished, batch.live, batch.execution_status.get("error")) == (5, 0, 5)
    assert completions == [batch_id]


def test_a_budget_given_to_a_sharded_batch_on_resume_pauses_it_on_the_summed_cost_and_no_call_is_claimed_after(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given $1 calls (a minute at $1 a minute), two live at once, and a sharded batch of 8 started with no budget
    monkeypatch.setattr(batches, "SHARD_MIN_CONTACTS", 1)
    placed: list[str] = []
    simulator = SimulatorProvider(deps.queues, seed=7, speed=1)

    class Counted:
        name = simulator.name

        def idempotent(self, agent: Agent) -> bool:
            return True

        def place_call(self, request: Any, agent: Agent) -> str:
            placed.append(request.execution_id)
            return simulator.place_call(request, agent)

    deps.providers["simulator"] = Counted()  # type: ignore[assignment]
    config = {"fixed_talk_seconds": 60, "cost_per_minute": 1}
    patch_agent(client, tenant, max_concurrent_calls=2, provider_config=config)
    batch_id, auth = create_and_run(client, tenant, 8)
    pump.step("dispatcher")  # the start: the batch runs, with its counter shards
    assert client.http.post(f"/batches/{batch_id}/pause", headers=auth).status_code == 200
    # When it is resumed with a budget of $2.50 (the batch keeps its shards: the claim does not check the spend)
    json_auth = {**auth, "Content-Type": "application/json"}
    response = client.http.post(f"/batches/{batch_id}/resume", headers=json_auth, body=json.dumps({"max_spend": 2.5}))
    assert response.status_code == 200, response.body
    pump.run(until=lambda: deps.batches.find(batch_id).status == "paused", advance_seconds=5)  # type: ignore[union-attr]
    at_pause = len(placed)
    pump.run(until=lambda: pump.advanced_seconds > 3600, advance_seconds=60)
    # Then the outcome whose cost brought the shards' sum to the budget paused it, and no call was claimed after
    batch = deps.batches.find(batch_id)
    assert batch is not None and batch.counter_shards == batches.COUNTER_SHARDS
    assert (batch.status, batch.pause_reason) == ("paused", "budget_reached")
    assert len(placed) == at_pause and 3 <= at_pause <= 4 and batch.spend == at_pause
    assert {s[RUN_STATUS] for s in shard_items(deps, batch_id).values()} == {"paused"}
    # And resumed with a budget for everything, it calls the rest and completes
    response = client.http.post(f"/batches/{batch_id}/resume", headers=json_auth, body=json.dumps({"max_spend": 50}))
    assert response.status_code == 200, response.body
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=5)  # type: ignore[union-attr]
    done = deps.batches.find(batch_id)
    assert done is not None and len(placed) == 8 and done.spend == 8.0 and done.finished == 8


def dynamodb_requests() -> list[tuple[str, str]]:
    """Each DynamoDB request from now on: its operation and its error code ('' when it succeeded)."""
    seen: list[tuple[str, str]] = []

    def note(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        seen.append((model.name, str(parsed.get("Error", {}).get("Code", ""))))

    aws.dynamodb().meta.events.register("after-call.dynamodb", note)
    return seen


@pytest.mark.parametrize(
    ("command", "before", "status"),
    [("pause", None, "paused"), ("stop", None, "stopped"), ("resume", "pause", "running")],
)
def test_pause_stop_and_resume_of_a_sharded_batch_from_the_api_write_once_and_are_never_refused(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    before: str | None,
    status: str,
) -> None:
    # Given a sharded batch running (or paused, to resume it), its contacts dispatched
    batch_id, auth = running_sharded_batch(client, tenant, pump, monkeypatch, 4)
    if before:
        assert client.http.post(f"/batches/{batch_id}/{before}", headers=auth).status_code == 200
    requests = dynamodb_requests()
    # When the API changes its status
    response = client.http.post(f"/batches/{batch_id}/{command}", headers=auth)
    # Then its read told the transition the batch has shards: one transaction, no write refused before it
    assert response.status_code == 200, response.body
    assert [r for r in requests if r[1]] == []
    assert [op for op, _ in requests if op in ("UpdateItem", "TransactWriteItems")] == ["TransactWriteItems"]
    # And the batch item and every shard carry the new status
    assert deps.batches.find(batch_id).status == status  # type: ignore[union-attr]
    assert {s[RUN_STATUS] for s in shard_items(deps, batch_id).values()} == {status}


@pytest.mark.parametrize(
    ("conflicts", "answer", "status"),
    [(1, 200, "paused"), (batches.TRANSITION_TRIES, 503, "running")],
    ids=["once-then-lands", "every-try-then-try-again"],
)
def test_a_sharded_batchs_status_change_that_meets_transaction_conflicts_is_tried_again(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    conflicts: int,
    answer: int,
    status: str,
) -> None:
    # Given a sharded batch running, and its status change's first transactions cancelled by a conflict (a
    # claim's transaction holding one of its shards, as DynamoDB answers: moto never does)
    batch_id, auth = running_sharded_batch(client, tenant, pump, monkeypatch, 4)
    fates = conflict_once(request, times=conflicts)
    # When the API pauses it
    response = client.http.post(f"/batches/{batch_id}/pause", headers=auth)
    # Then the transaction was tried again: it landed after one conflict (the batch item and every shard say
    # paused); after the store's last try the answer says to come back (503, not a 500) and nothing changed
    assert fates == ["conflict"] * conflicts + (["sent"] if answer == 200 else [])
    assert response.status_code == answer, response.body
    if answer == 503:
        assert json.loads(response.body)["code"] == "try_again" and response.headers["Retry-After"] == "1"
    assert deps.batches.find(batch_id).status == status  # type: ignore[union-attr]
    assert {s[RUN_STATUS] for s in shard_items(deps, batch_id).values()} == {status}
    assert set(shard_items(deps, batch_id)) == set(range(1, batches.COUNTER_SHARDS + 1))
