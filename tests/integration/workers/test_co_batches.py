"""Batches counting on their agent's live-call shards (co-located counters), as a hostile tenant and faults meet them.

Written by attacking it: each test whose comment starts "Was:" failed until the fix in the comment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.domain.messages import ProviderEvent
from chalicelib.resources import PROVIDER_EVENTS_QUEUE
from chalicelib.services.container import Dependencies
from chalicelib.services.sweeping import sweep_once
from chalicelib.store import batches
from chalicelib.store.batches import CO_SHARDS, co_tag, live_shard_key
from chalicelib.store.dynamo import av, from_item
from tests.support.batches import create_and_run, dispatched_batch, patch_agent
from tests.support.item_size import item_size
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider
from tests.support.webhook_spy import spy_webhooks


def agent_shards(deps: Dependencies, tenant_id: str, agent_id: str) -> dict[int, dict[str, Any]]:
    found = {}
    for shard in range(CO_SHARDS):
        key = {"agent_key": av(live_shard_key(f"{tenant_id}#{agent_id}", shard)), "lease_id": av("live")}
        item = aws.dynamodb().get_item(TableName=deps.leases.table, Key=key, ConsistentRead=True).get("Item")
        if item:
            found[shard] = item
    return found


def left_on_shards(deps: Dependencies, tenant: tuple[str, str], batch_id: str) -> list[str]:
    """The attributes of a batch (its counters, its halted marker) on its agent's live-call shards."""
    tag = co_tag(batch_id)
    return sorted({n for s in agent_shards(deps, "tenant-a", tenant[1]).values() for n in s if n.startswith(tag)})


def batch_item(deps: Dependencies, batch_id: str) -> dict[str, Any]:
    return from_item(aws.dynamodb().get_item(TableName=deps.batches.table, Key=deps.batches.key(batch_id))["Item"])


# Was: the completion event of a co batch carried the batch item's counts alone (its calls' counts are on the
# agent's shards), and chose completed vs completed_partial on them. Fix: a co batch's completion reads it summed.
def test_the_completion_event_of_a_co_batch_counts_its_calls(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = spy_webhooks(deps, monkeypatch)
    scripted.script[(1, 1)] = "failed"
    batch_id, _ = dispatched_batch(
        client, tenant, pump, 4, agent_limit=10, status_webhook="https://hooks.example.com/status"
    )
    assert deps.batches.find(batch_id).co_key  # type: ignore[union-attr]
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    final = [m for m in sent if m["event"].startswith("batch.completed")]
    assert final, [m["event"] for m in sent]
    assert final[0]["payload"]["execution_status"] == {"completed": 3, "failed": 1}


# The cap of MAX_CO_BATCHES is soft: a batch writes its tag on its agent's shards with its first claim, so batches
# started before any of them claimed all count there. What it bounds is the shards' size, and past it they stay under
# 1 KB (one write unit a claim or an outcome).
def test_batches_of_one_agent_started_at_once_keep_its_shards_under_one_kilobyte(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    patch_agent(client, tenant, max_concurrent_calls=20)
    scripted.script.update({(0, 1): "ringing", (1, 1): "failed", (2, 1): "no-answer"})
    ids = [create_and_run(client, tenant, 4)[0] for _ in range(batches.MAX_CO_BATCHES + 3)]
    while pump.step("dispatcher"):
        pass
    co = [b for b in ids if deps.batches.find(b).co_key]  # type: ignore[union-attr]
    while pump.step("dialer") or pump.step("provider_events"):
        pass
    shards = agent_shards(deps, "tenant-a", tenant[1])
    sizes = {s: item_size(item) for s, item in shards.items()}
    assert len(co) == len(ids)
    assert all(size < 1024 for size in sizes.values()), sizes


# Was: a co batch one of whose calls ended in `error` was announced `batch.completed` (the item alone has no
# `error` count), and once anything reads it summed (the sweeper, a redelivered outcome) `batch.completed_partial`
# too: two final events of one batch. Fix: as above.
def test_a_co_batch_with_an_error_call_is_announced_completed_partial_once(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = spy_webhooks(deps, monkeypatch)
    scripted.script[(2, 1)] = "error"
    pump.duplicate = lambda name, body: name == "provider_events"  # SQS delivers at least once
    batch_id, _ = dispatched_batch(
        client, tenant, pump, 3, agent_limit=10, status_webhook="https://hooks.example.com/status"
    )
    assert deps.batches.find(batch_id).co_key  # type: ignore[union-attr]
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    pump.run()
    final = sorted({m["event"] for m in sent if m["event"].startswith("batch.completed")})
    assert final == ["batch.completed_partial"]


def fold_conflicts(request: pytest.FixtureRequest, times: int = 1) -> list[str]:
    """The next `times` fold transactions (fold_co: it sets co_folded) are cancelled with TransactionConflict, as
    DynamoDB does when another transaction (another batch's claim on the agent's hot shard) holds one of its items."""
    from tests.support.faults import _Refused

    fates: list[str] = []

    def before_call(params: dict[str, Any], **_: Any) -> Any:
        body = params.get("body") or b"{}"
        if b"co_folded" not in (body if isinstance(body, bytes) else body.encode()):
            return None
        if fates.count("conflict") >= times:
            fates.append("sent")
            return None
        fates.append("conflict")
        items = json.loads(body).get("TransactItems", [])
        reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"} for _ in items]
        return _Refused(), {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled (injected)"},
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    events, event = aws.dynamodb().meta.events, "before-call.dynamodb.TransactWriteItems"
    events.register(event, before_call)
    request.addfinalizer(lambda: events.unregister(event, before_call))
    return fates


# Was: a stopped co batch was folded only by its closer; when that fold is refused (a TransactionConflict with
# another transaction on the agent's shard, which every call of the agent writes), the batch has already left the
# sweeper's index (close_ended removed `active`), so nothing folds it again: its halted marker and counters stay on
# the agent's 8 shards for ever. Fix: its fold is its close (it leaves the sweeper's index with the fold).
def test_a_stopped_co_batch_whose_fold_conflicts_is_folded_later(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    request: pytest.FixtureRequest,
) -> None:
    batch_id, auth = dispatched_batch(client, tenant, pump, 3, agent_limit=10)
    pump.step("dialer")  # some calls claimed and counted on the agent's shard
    fates = fold_conflicts(request)
    assert client.http.post(f"/batches/{batch_id}/stop", headers=auth).status_code == 200
    pump.run(until=lambda: bool(fates), advance_seconds=5)  # its closer's fold, refused
    assert fates == ["conflict"]
    assert deps.batches.find(batch_id).active  # type: ignore[union-attr]  # so the sweeper sees it again
    for _ in range(3):  # the sweeper's passes, minutes later
        pump.advance(60)
        sweep_once(deps)
        pump.run()
    left = left_on_shards(deps, tenant, batch_id)
    assert "co_folded" in batch_item(deps, batch_id) and left == [], (fates, left)


# Was: a co batch read in a container that has not read it before is two requests (its item, then its agent's
# shards); a fold that commits between them moves the counts off the shards after the item was read: the read sees
# them nowhere (GET /batches/{id} of a completed batch said its calls were all `queued`). Fix: an ended batch's item
# is read again after its shards (BatchStore._unfolded_or_again).
def test_a_get_that_races_the_fold_sees_every_call(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    batch_id, auth = dispatched_batch(client, tenant, pump, 3, agent_limit=10)
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    batches._co_agents.clear()  # a container that has not read this batch yet (another API Lambda)
    folded: list[bool] = []

    def fold_first(params: dict[str, Any], **_: Any) -> None:
        if not folded:
            folded.append(True)
            assert sweep_once(deps).folded_batches == 1  # the sweeper, in another Lambda, at that moment

    events, event = aws.dynamodb().meta.events, "provide-client-params.dynamodb.BatchGetItem"
    events.register(event, fold_first)
    try:
        body = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    finally:
        events.unregister(event, fold_first)
    assert folded
    assert body["execution_status"] == {"completed": 3}, body["execution_status"]


def report(deps: Dependencies, batch_id: str, status: str = "completed", **details: Any) -> int:
    """The scripted provider's report of each of the batch's live calls, sent now."""
    from chalicelib.domain.messages import ProviderEvent
    from chalicelib.resources import PROVIDER_EVENTS_QUEUE

    sent = 0
    for e in deps.executions.iter_batch(batch_id):
        if e.status in ("initiated", "ringing", "in-progress") and e.provider_call_id:
            event = ProviderEvent.of(e.execution_id, "simulator", e.provider_call_id, status, **details)
            deps.queues.send(PROVIDER_EVENTS_QUEUE, event)
            sent += 1
    return sent


RETRY = json.dumps({"enabled": True, "max_retries": 1, "retry_intervals_minutes": [1], "retry_on_statuses": ["busy"]})


# A co batch paused with calls live, whose calls end `busy` while paused (their retries refused by the halted
# marker: a paused batch does not retry, as before), then resumed, counts every
# call once, dials nothing while paused, and its fold leaves exact counts on its item and nothing on the shards.
def test_a_co_batch_paused_with_live_calls_and_resumed_counts_exactly(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    patch_agent(client, tenant, max_concurrent_calls=3)
    scripted.report = False
    batch_id, auth = create_and_run(client, tenant, 7, retry_config=RETRY)
    while pump.step("dispatcher"):
        pass
    assert deps.batches.find(batch_id).co_key  # type: ignore[union-attr]
    for _ in range(3):
        pump.step("dialer")
    assert len(scripted.dials) == 3
    assert client.http.post(f"/batches/{batch_id}/pause", headers=auth).status_code == 200
    assert report(deps, batch_id, "busy") == 3  # each is retried, but the batch is paused
    for _ in range(40):
        pump.step("provider_events") or pump.step("dialer")
        pump.advance(5)
    assert len(scripted.dials) == 3
    held = deps.batches.find(batch_id)
    assert held is not None and held.live == 0 and deps.leases.live(f"tenant-a#{tenant[1]}") == 0
    assert client.http.post(f"/batches/{batch_id}/resume", headers=auth).status_code == 200
    scripted.report = True
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=5)  # type: ignore[union-attr]
    done = deps.batches.find(batch_id)
    assert done is not None and done.finished == 7 and done.live == 0
    counts = {k: v for k, v in done.execution_status.items() if v}
    assert sum(counts.values()) == 7, counts
    before = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert sweep_once(deps).folded_batches == 1
    after = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert before["execution_status"] == after["execution_status"] == counts
    assert left_on_shards(deps, tenant, batch_id) == []
    assert deps.leases.live(f"tenant-a#{tenant[1]}") == 0


# Was: the README and the item-size guard (test_co_counters: "an agent shard carrying its share of batches stays
# under one kilobyte") assume a co batch adds a few short counters to its agent's shard; its extraction tallies
# (`<tag>x<field>#<value>`, up to 20 fields x 20 values of up to 100 characters) land there too, so one small batch
# with a category schema makes the agent's hot shard several kilobytes: every claim and outcome of every batch of
# the agent then pays for it. Fix: a co batch's tallies go to its item (ExecutionStore._tallies_apart).
def test_a_co_batch_with_extraction_tallies_keeps_its_agents_shard_under_one_kilobyte(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    values = [f"answer number {i} of a reasonably worded choice" for i in range(10)]
    schema = [{"name": f"question_{q}", "type": "category", "values": values} for q in range(3)]
    patch_agent(client, tenant, extraction_schema=schema)
    scripted.report = False
    batch_id, _ = dispatched_batch(client, tenant, pump, 10, agent_limit=20)
    assert deps.batches.find(batch_id).co_key  # type: ignore[union-attr]
    while pump.step("dialer"):
        pass
    from chalicelib.domain.messages import ProviderEvent
    from chalicelib.resources import PROVIDER_EVENTS_QUEUE

    for i, e in enumerate(sorted(deps.executions.iter_batch(batch_id), key=lambda e: e.seq)):
        answers = {f"question_{q}": values[(i + q) % 10] for q in range(3)}
        event = ProviderEvent.of(
            e.execution_id,
            "simulator",
            e.provider_call_id,
            "completed",
            extracted_data=answers,
            conversation_duration=30,
        )
        deps.queues.send(PROVIDER_EVENTS_QUEUE, event)
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    batch = deps.batches.find(batch_id)
    assert batch is not None and sum(v for k, v in (batch.model_extra or {}).items() if k.startswith("xb#")) == 30
    sizes = {s: item_size(item) for s, item in agent_shards(deps, "tenant-a", tenant[1]).items()}
    assert all(size < 1024 for size in sizes.values()), sizes


# a co batch given a budget by its resume pauses once its summed spend (on the agent's shards)
# reaches it, and dials no call after that.
def test_a_co_batch_given_a_budget_at_resume_pauses_when_it_is_spent(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    scripted.report = False
    batch_id, auth = dispatched_batch(client, tenant, pump, 6, agent_limit=1)
    assert deps.batches.find(batch_id).co_key  # type: ignore[union-attr]

    def one_call() -> None:
        while not report(deps, batch_id, "completed", total_cost=1.0, conversation_duration=10):
            if not pump.step("dialer"):
                pump.advance(3)
        while pump.step("provider_events"):
            pass

    one_call()
    one_call()
    assert client.http.post(f"/batches/{batch_id}/pause", headers=auth).status_code == 200
    resumed = client.http.post(
        f"/batches/{batch_id}/resume",
        headers={**auth, "Content-Type": "application/json"},
        body=json.dumps({"max_spend": 3.0}),
    )
    assert resumed.status_code == 200, resumed.body
    one_call()
    batch = deps.batches.find(batch_id)
    assert batch is not None
    assert batch.status == "paused" and batch.spend == 3.0, (batch.status, batch.spend)
    for _ in range(20):
        pump.step("dialer") or pump.step("dispatcher")
        pump.advance(5)
    assert len(scripted.dials) == 3
    assert sum(1 for e in deps.executions.iter_batch(batch_id) if e.status == "initiated") == 0


# co batches and a capped (item-counted) batch of one agent whose limit spans three live-call shards,
# their dialers racing, never hold more live calls than the agent's limit, and each counts exactly its own.
def test_co_and_item_counted_batches_racing_hold_the_agents_limit(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.store import leases
    from tests.integration.store.test_batch_shards import race
    from tests.integration.workers.test_shared_agent import counted, statuses

    monkeypatch.setattr(leases, "MIN_SHARE", 2)  # an agent of 7 live calls: 3 shards (2 + 2 + 3... of the limit)
    limit = 7
    patch_agent(client, tenant, max_concurrent_calls=limit)
    scripted.report = False
    ids = [create_and_run(client, tenant, 4)[0] for _ in range(3)]
    capped, _ = create_and_run(client, tenant, 4, max_concurrent_calls="3")
    while pump.step("dispatcher"):
        pass
    co = [b for b in ids if deps.batches.find(b).co_key]  # type: ignore[union-attr]
    assert co and not deps.batches.find(capped).co_key  # type: ignore[union-attr]
    race(pump, steps=4)
    while pump.step("dialer"):
        pass
    assert deps.leases.live(f"tenant-a#{tenant[1]}") == limit
    assert len(scripted.dials) == limit
    for b in [*ids, capped]:
        assert counted(deps, b) == statuses(deps, b)


# Was: a deleted batch's cancel walk closed it without a fold, so its counters and halted marker stayed on its
# agent's shards for good (review). Fix: its purge folds them once none of its executions is left.
def test_a_co_batch_deleted_with_calls_live_leaves_nothing_on_its_agents_shards(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a batch counting on its agent's shards, two of its calls live
    scripted.report = False
    batch_id, auth = dispatched_batch(client, tenant, pump, 4, agent_limit=2)
    assert deps.batches.find(batch_id).co_key  # type: ignore[union-attr]
    while pump.step("dialer"):
        pass
    assert len(scripted.dials) == 2
    # When it is deleted, and its live calls end after that
    assert client.http.delete(f"/batches/{batch_id}", headers=auth).status_code in (200, 202, 204)
    assert report(deps, batch_id, "completed", conversation_duration=10) == 2
    pump.run(until=lambda: bool(deps.batches.find(batch_id, summed=False).purged_at), advance_seconds=30)  # type: ignore[union-attr]
    # Then nothing of it is left on the agent's shards, and the agent's slots are free
    assert left_on_shards(deps, tenant, batch_id) == []
    assert deps.leases.live(f"tenant-a#{tenant[1]}") == 0


# Was: the fold's removals required every value to equal the one read, and a sum of costs ADDed exactly by
# DynamoDB (1.27333333333333333) reads back as a float that is not equal to it: the fold was refused at every
# sweep, for ever (review). Fix: only whole-number counters are compared.
def test_a_co_batch_whose_costs_sum_past_a_float_s_digits_is_folded(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a batch counting on its agent's shards whose two calls cost 0.07333333333333333 and 1.2
    scripted.report = False
    batch_id, _ = dispatched_batch(client, tenant, pump, 2, agent_limit=2)
    while pump.step("dialer"):
        pass
    for e, cost in zip(
        sorted(deps.executions.iter_batch(batch_id), key=lambda e: e.seq), (0.07333333333333333, 1.2), strict=True
    ):
        event = ProviderEvent.of(
            e.execution_id, "simulator", e.provider_call_id, "completed", total_cost=cost, conversation_duration=10
        )
        deps.queues.send(PROVIDER_EVENTS_QUEUE, event)
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    # When the sweeper runs
    assert sweep_once(deps).folded_batches == 1
    # Then its counters left the shards for its item, its spend whole
    assert left_on_shards(deps, tenant, batch_id) == []
    folded = deps.batches.find(batch_id)
    assert folded is not None and folded.finished == 2 and abs((folded.spend or 0) - 1.27333333333333333) < 1e-9
