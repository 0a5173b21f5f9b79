"""The execution item stays small (its timeline packed, its lease on it: issue 17) and items written before
still read and end."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client
from moto.dynamodb.models import dynamodb_backends

from chalicelib import aws
from chalicelib.domain.call_status import FINAL, is_final
from chalicelib.domain.timeline_codec import unpack
from chalicelib.services.container import Dependencies
from chalicelib.store.dynamo import av, index_shard, to_item
from chalicelib.store.leases import COUNTER, LEASE, agent_key
from tests.support.batches import create_and_run, is_completed, patch_agent
from tests.support.pump import Pump


def stored_size(deps: Dependencies, execution_id: str) -> int:
    """The item's size as DynamoDB bills it (names and values), as the local emulator computes it."""
    backend = dynamodb_backends["123456789012"]["us-east-1"]
    item = backend.get_item(deps.executions.table, deps.executions.key(execution_id))
    assert item is not None
    return int(item.size())


def log_body(client: Client, key: str, execution_id: str) -> str:
    response = client.http.get(f"/executions/{execution_id}/log", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    return str(response.body.decode())


def test_an_answered_call_s_item_with_its_whole_timeline_stays_under_2_kb(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given an answered call (queued, claimed, placed: request and answer, ringing, in progress, completed:
    # seven timeline entries)
    patch_agent(client, tenant, provider_config={"fixed_talk_seconds": 30})
    batch_id, _ = create_and_run(client, tenant, 1)
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    (execution,) = deps.executions.iter_batch(batch_id)
    assert execution.status == "completed"
    # Then its item is under 2 KB (it was over 2 KB with the timeline as maps: 3 write units, 6 in a transaction)
    assert stored_size(deps, execution.execution_id) < 2048
    assert len(deps.executions.find(execution.execution_id).timeline or []) == 7  # type: ignore[union-attr]


def test_an_answered_call_s_item_stays_under_1_kb_until_its_outcome(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given an answered call, its item's size noted after every write while it is not final
    patch_agent(client, tenant, provider_config={"fixed_talk_seconds": 30})
    batch_id, _ = create_and_run(client, tenant, 1)
    pump.step("dispatcher")
    (execution,) = deps.executions.iter_batch(batch_id)
    sizes: dict[str, int] = {}

    def note(**_: Any) -> None:
        found = deps.executions.find(execution.execution_id)
        if found is not None and not is_final(found.status):
            sizes[found.status] = max(sizes.get(found.status, 0), stored_size(deps, execution.execution_id))

    writes = ("UpdateItem", "TransactWriteItems")
    for operation in writes:
        aws.dynamodb().meta.events.register(f"after-call.dynamodb.{operation}", note)
    try:
        # When it is claimed, placed, rings, is answered and ends
        pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    finally:
        for operation in writes:
            aws.dynamodb().meta.events.unregister(f"after-call.dynamodb.{operation}", note)
    # Then every write before the outcome wrote an item under 1 KB (one write unit; two in a transaction),
    # its six timeline entries included
    assert set(sizes) == {"initiated", "ringing", "in-progress"}
    assert max(sizes.values()) < 1024, sizes


def test_a_call_stored_before_the_timeline_was_packed_reads_the_same_and_ends(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given a call claimed and placed, its item then rewritten as this release's predecessor stored it (the
    # timeline as a list of maps, no packed entries)
    key, _ = tenant
    patch_agent(client, tenant, provider_config={"fixed_talk_seconds": 30})
    batch_id, _ = create_and_run(client, tenant, 1)
    pump.step("dispatcher")
    pump.step("dialer")
    (execution,) = deps.executions.iter_batch(batch_id)
    assert execution.status == "initiated"
    before = log_body(client, key, execution.execution_id)
    table, item_key = deps.executions.table, deps.executions.key(execution.execution_id)
    item = aws.dynamodb().get_item(TableName=table, Key=item_key, ConsistentRead=True)["Item"]
    old_form = [unpack(entry.get("S") or entry["B"]) for entry in item["tl"]["L"]]
    aws.dynamodb().update_item(
        TableName=table,
        Key=item_key,
        UpdateExpression="SET timeline = :t REMOVE tl",
        ExpressionAttributeValues={":t": av(old_form)},
    )
    # Then its log reads byte for byte as before
    assert log_body(client, key, execution.execution_id) == before
    # When the call goes on to its end
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    # Then it ends once, and its log is the old entries followed by the new ones, in order
    ended = deps.executions.find(execution.execution_id)
    assert ended is not None and ended.status == "completed"
    entries = json.loads(log_body(client, key, execution.execution_id))["data"]
    assert entries[: len(old_form)] == json.loads(before)["data"]
    assert [e["status"] for e in entries[len(old_form) :] if e["type"] == "status"] == [
        "ringing",
        "in-progress",
        "completed",
    ]
    counted = deps.batches.find(batch_id).execution_status or {}  # type: ignore[union-attr]
    assert {status: n for status, n in counted.items() if n} == {"completed": 1}


def lease_items(deps: Dependencies, agent_id: str) -> list[str]:
    """The agent's lease items (not its counter, not its month spend)."""
    found = aws.dynamodb().query(
        TableName=deps.leases.table,
        KeyConditionExpression="agent_key = :k",
        ExpressionAttributeValues={":k": av(agent_key("tenant-a", agent_id))},
    )["Items"]
    return [i["lease_id"]["S"] for i in found if i["lease_id"]["S"] != COUNTER and "#" not in i["lease_id"]["S"]]


def test_a_claimed_call_holds_its_slot_on_its_own_item_and_frees_it_when_it_ends(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given a call claimed and placed
    _, agent_id = tenant
    batch_id, _ = create_and_run(client, tenant, 1)
    pump.step("dispatcher")
    pump.step("dialer")
    (execution,) = deps.executions.iter_batch(batch_id)
    # Then its slot is counted and its lease is a field of the execution: no lease item (two write units less
    # in the claim's transaction, two in the outcome's)
    assert deps.leases.live(agent_key("tenant-a", agent_id)) == 1 == deps.leases.count_live()
    assert (execution.model_extra or {}).get(LEASE) and lease_items(deps, agent_id) == []
    # When it ends
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    # Then the slot is free and the lease gone
    assert deps.leases.live(agent_key("tenant-a", agent_id)) == 0 == deps.leases.count_live()
    assert LEASE not in (deps.executions.find(execution.execution_id).model_extra or {})  # type: ignore[union-attr]


def test_a_call_claimed_before_the_lease_fold_ends_and_frees_its_slot_once(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given a call claimed and placed, then rewritten as the previous release stored it: a lease item, no lease
    # on the execution
    _, agent_id = tenant
    batch_id, _ = create_and_run(client, tenant, 1)
    pump.step("dispatcher")
    pump.step("dialer")
    (execution,) = deps.executions.iter_batch(batch_id)
    key = agent_key("tenant-a", agent_id)
    aws.dynamodb().update_item(
        TableName=deps.executions.table,
        Key=deps.executions.key(execution.execution_id),
        UpdateExpression="REMOVE " + LEASE,
    )
    lease = {"agent_key": key, "lease_id": execution.execution_id, "batch_id": batch_id}
    item = {**lease, "expires_at": "2999-01-01T00:00:00.000Z", "lease_shard": index_shard(execution.execution_id)}
    aws.dynamodb().put_item(TableName=deps.leases.table, Item=to_item(item))
    assert deps.leases.count_live() == 1 == deps.leases.live(key)
    # When it ends
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    # Then it ended once, its lease item is gone and the agent's count is back to zero (not below)
    assert deps.executions.find(execution.execution_id).status in FINAL  # type: ignore[union-attr]
    assert lease_items(deps, agent_id) == []
    assert deps.leases.live(key) == 0 == deps.leases.count_live()
    assert not deps.leases.release(key, execution.execution_id, batch_id)  # freed once: a repeat frees nothing
    assert deps.leases.live(key) == 0
