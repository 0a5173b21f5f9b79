"""An agent's live-call counter split into shards, each with its share of the limit (issue 17: no hot keys):
the limit stays exact across shards, each call frees the shard it took, and a call claimed before sharding
(one counter, nothing recorded on the execution) still ends and frees its slot."""

from __future__ import annotations

import random
import threading

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.services.container import Dependencies
from chalicelib.store import leases
from chalicelib.store.dynamo import av, from_item
from chalicelib.store.leases import COUNTER, SHARD_FIELD, agent_key, shard_key
from chalicelib.workers.sweeper import sweep
from tests.support.batches import create_and_run, dispatched_batch, patch_agent
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider


def shard_counts(deps: Dependencies, key: str) -> list[int]:
    """Each shard's counter as stored (0 where none was ever written)."""
    counts = []
    for shard in range(leases.LIVE_SHARDS):
        item = aws.dynamodb().get_item(
            TableName=deps.leases.table, Key={"agent_key": av(shard_key(key, shard)), "lease_id": av(COUNTER)}
        )
        counts.append(int(from_item(item["Item"]).get("live", 0)) if "Item" in item else 0)
    return counts


def test_shares_add_up_to_the_limit_and_small_limits_keep_one_counter() -> None:
    for limit in range(1, 1000):
        shares = [leases.share(limit, s) for s in range(leases.LIVE_SHARDS)]
        assert sum(shares) == limit and all(s >= min(limit, leases.MIN_SHARE) for s in shares if s)
    assert leases.live_shards(2 * leases.MIN_SHARE - 1) == 1  # an agent under 64 calls: the one old counter
    assert leases.live_shards(1000) == leases.LIVE_SHARDS


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_racing_dialers_never_exceed_the_limit_across_shards(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    seed: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given shards of one slot each (as a limit of 8 x 32 would be, in small), and calls that never report
    monkeypatch.setattr(leases, "MIN_SHARE", 1)
    rng = random.Random(seed)
    limit = rng.randint(2, 7)
    scripted.report = False
    dispatched_batch(client, tenant, pump, 16, agent_limit=limit)
    # When several dialers race over every dial message at once
    threads = [threading.Thread(target=lambda: [pump.step("dialer") for _ in range(6)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly `limit` calls were placed (a claim refused by a full shard took another's slot), never more
    key = agent_key("tenant-a", tenant[1])
    counts = shard_counts(deps, key)
    assert len(scripted.dials) == limit == deps.leases.live(key) == sum(counts)
    assert all(count <= leases.share(limit, s) for s, count in enumerate(counts))
    assert sum(1 for c in counts if c) == limit  # every shard took its one slot


def test_each_call_frees_the_shard_it_took(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an agent whose 4 slots are 4 shards
    monkeypatch.setattr(leases, "MIN_SHARE", 1)
    patch_agent(client, tenant, max_concurrent_calls=4)
    batch_id, _ = create_and_run(client, tenant, 12)
    # When its batch runs to the end
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    # Then the calls were counted in several shards, and every shard is back to 0
    used = {int((e.model_extra or {}).get(SHARD_FIELD) or 0) for e in deps.executions.iter_batch(batch_id)}
    assert len(used) > 1
    assert shard_counts(deps, agent_key("tenant-a", tenant[1])) == [0] * leases.LIVE_SHARDS
    assert len(scripted.dials) == 12


def test_a_call_claimed_under_the_one_old_counter_frees_it_after_the_limit_grew(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a call claimed as every call was before sharding: one counter (the agent's key), no shard recorded
    scripted.report = False
    batch_id, _ = dispatched_batch(client, tenant, pump, 1, agent_limit=1)
    while pump.step("dialer"):
        pass
    (claimed,) = deps.executions.iter_batch(batch_id)
    assert claimed.status == "initiated" and SHARD_FIELD not in (claimed.model_extra or {})
    key = agent_key("tenant-a", tenant[1])
    assert shard_counts(deps, key)[0] == 1
    # When the agent's limit grows to several shards and the call ends (its report never came: the sweeper)
    patch_agent(client, tenant, max_concurrent_calls=200)
    pump.advance(deps.settings.call_report_timeout_seconds + 60)
    assert sweep(deps).unreported == 1
    # Then its slot is freed from the old counter, and no shard counts a live call
    assert shard_counts(deps, key) == [0] * leases.LIVE_SHARDS and deps.leases.live(key) == 0
    assert deps.leases.count_live() == 0


def test_a_claim_whose_own_shard_is_full_takes_a_slot_another_shard_has(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an agent whose 3 slots are 3 shards, every shard full but the last its next call would try
    monkeypatch.setattr(leases, "MIN_SHARE", 1)
    scripted.report = False
    batch_id, _ = dispatched_batch(client, tenant, pump, 1, agent_limit=3)
    (waiting,) = deps.executions.iter_batch(batch_id)
    key = agent_key("tenant-a", tenant[1])
    *full, free = leases.claim_order(waiting.execution_id, 3)
    for shard in full:
        aws.dynamodb().put_item(
            TableName=deps.leases.table,
            Item={"agent_key": av(shard_key(key, shard)), "lease_id": av(COUNTER), "live": av(1)},
        )
    # When the dialer takes its message
    pump.step("dialer")
    # Then the call is placed in the one shard with room, and the limit holds
    assert len(scripted.dials) == 1
    assert shard_counts(deps, key)[free] == 1 and deps.leases.live(key) == 3


def test_a_claim_at_the_agents_limit_costs_one_refused_transaction_not_one_per_shard(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an agent whose 4 slots (4 shards) are all taken
    monkeypatch.setattr(leases, "MIN_SHARE", 1)
    batch_id, _ = dispatched_batch(client, tenant, pump, 1, agent_limit=4)
    key = agent_key("tenant-a", tenant[1])
    for shard in range(4):
        aws.dynamodb().put_item(
            TableName=deps.leases.table,
            Item={"agent_key": av(shard_key(key, shard)), "lease_id": av(COUNTER), "live": av(1)},
        )
    transactions: list[str] = []
    aws.dynamodb().meta.events.register(
        "before-call.dynamodb.TransactWriteItems", lambda **_: transactions.append("claim")
    )
    # When the dialer takes the call's message
    pump.step("dialer")
    # Then one claim was refused (one read found no shard with room) and the call waits, queued
    assert transactions == ["claim"]
    assert not scripted.dials
    assert [e.status for e in deps.executions.iter_batch(batch_id)] == ["queued"]
