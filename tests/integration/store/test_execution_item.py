"""The execution item stays small (its timeline packed, its lease on it: issue 17) and items written before
still read and end."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client
from moto.dynamodb.models import dynamodb_backends

from chalicelib import aws, clock
from chalicelib.domain.call_status import FINAL, is_final
from chalicelib.domain.records import Execution
from chalicelib.domain.timeline_codec import unpack
from chalicelib.services.container import Dependencies
from chalicelib.store.agent_history import agent_key as history_agent_key
from chalicelib.store.agent_history import agent_sort
from chalicelib.store.dynamo import av, index_shard, to_item
from chalicelib.store.execution_item import (
    BATCH_SHARD,
    KEYS,
    LIVE_SHARD,
    PERSONAL,
    PROGRESS_MARK,
    STORED,
    TIMES,
    encode,
    pack_time,
    stored_name,
    unpack_time,
)
from chalicelib.store.execution_item import read as read_item
from chalicelib.store.leases import COUNTER, LEASE, agent_key
from tests.support.batches import answered_call, create_and_run, is_completed, patch_agent
from tests.support.item_size import item_size
from tests.support.items import item_text
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
    execution = answered_call(client, tenant, pump, deps)
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
        UpdateExpression="REMOVE #l",
        ExpressionAttributeNames={"#l": stored_name(LEASE)},
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


# The stored form (store/execution_item.py): short names, packed times, no copies of what the keys hold.

EVERY_FIELD: dict[str, Any] = {
    "execution_id": "e" * 32,
    "batch_id": "b" * 32,
    "tenant_id": "tenant-a",
    "agent_id": "a" * 32,
    "status": "completed",
    "seq": "000000007#02",
    "contact_index": 7,
    "row": 9,
    "user_number": "+12025550100",
    "number_key": "k" * 40,
    "from_number": "+12025550147",
    "attempt": 2,
    "retry_count": 1,
    "recipient_data": {"customer_name": "Name0", "plan": "plan0"},
    "retry_history": [{"status": "no-answer", "at": "2026-12-01T11:00:00.000Z"}],
    "created_at": "2026-12-01T11:25:03.071Z",
    "updated_at": "2026-12-01T11:25:03.932Z",
    "scheduled_at": "2026-12-01T11:20:00.000Z",
    "provider": "simulator",
    "provider_call_id": "sim-1",
    "claimed_at": "2026-12-01T11:25:03.244Z",
    "placed_at": "2026-12-01T11:25:03.590Z",
    "answered_at": "2026-12-01T11:25:03.745Z",
    "ended_at": "2026-12-01T11:25:03.843Z",
    "conversation_duration": 30,
    "total_cost": 0.025,
    "transcript": "assistant: Hello",
    "answered_by_voice_mail": False,
    "hangup_reason": "call ended by user",
    "recording_url": "https://recordings.example/1.mp3",
    "error_message": "none",
    "summary": "short",
    "extracted_data": {"interested": "yes"},
    "extraction_errors": [{"field": "age", "value": "old", "message": "not a number"}],
    "cost_breakdown": {"llm": 0.01, "telephony": 0.015},
    "transfer_call_data": {"provider_call_id": "t-1", "status": "completed"},
    "hangup_by": "Callee",
    "hangup_provider_code": 16,
    "ring_duration": 2.5,
    "post_dial_delay": 1,
    "telephony_duration": 33,
    "ringing_at": "2026-12-01T11:25:03.695Z",
    "late_details_at": "2026-12-01T11:26:00.000Z",
    "holiday_calendar": "US",
    "opted_out": True,
    "erased_at": "2026-12-02T00:00:00.001Z",
    "superseded_by": "f" * 32,
    "open_shard": "3",
    "wake_shard": "4",
    "place_token": "p-1",
    "wait_token": "w-1",
    "callbacks": {"c-1", "c-2"},
    PROGRESS_MARK: True,
    LEASE: "2026-12-01T11:30:03.244Z",
    LIVE_SHARD: 2,
    BATCH_SHARD: 5,
}


def with_index_keys(fields: dict[str, Any]) -> dict[str, Any]:
    """The item's index keys, as the store adds them on creation (store/executions._indexed)."""
    created = fields["created_at"]
    return {
        **fields,
        "agent_key": history_agent_key(fields["tenant_id"], fields["agent_id"]),
        "agent_sort": agent_sort(created, fields["execution_id"]),
    }


def stored_item(deps: Dependencies, execution_id: str) -> dict[str, Any]:
    key = deps.executions.key(execution_id)
    return dict(aws.dynamodb().get_item(TableName=deps.executions.table, Key=key, ConsistentRead=True)["Item"])


def test_every_field_round_trips_through_the_stored_form_under_short_names(deps: Dependencies) -> None:
    # Given an execution with every field of the record set (the timeline aside: packed as before, tested above)
    # and every bookkeeping field the stores put on it
    assert set(Execution.model_fields) - set(EVERY_FIELD) == {"timeline"}
    # When it is stored in the new form and read back
    aws.dynamodb().put_item(TableName=deps.executions.table, Item=to_item(encode(with_index_keys(EVERY_FIELD))))
    found = deps.executions.find(EVERY_FIELD["execution_id"])
    # Then it reads back equal, every time the same ISO string
    assert found is not None
    assert found.model_dump(exclude={"timeline"}) == Execution.model_validate(with_index_keys(EVERY_FIELD)).model_dump(
        exclude={"timeline"}
    )
    assert {k: v for k, v in found.model_dump().items() if k.endswith("_at") or k == LEASE} == {
        k: v for k, v in EVERY_FIELD.items() if k.endswith("_at") or k == LEASE
    }
    # And the item holds only the keys and short names, the times packed, no copy of what the keys hold
    item = stored_item(deps, EVERY_FIELD["execution_id"])
    assert set(item) <= KEYS | set(STORED.values())
    assert not {STORED[f] for f in ("tenant_id", "agent_id", "created_at", "contact_index", "attempt")} & set(item)
    assert all("B" in item[STORED[t]] for t in TIMES if STORED[t] in item)


def test_an_item_stored_in_the_old_form_reads_as_the_new_one(deps: Dependencies) -> None:
    # Given the same execution stored in the new form, then in the old (long names, ISO strings, every field)
    execution_id = EVERY_FIELD["execution_id"]
    aws.dynamodb().put_item(TableName=deps.executions.table, Item=to_item(encode(with_index_keys(EVERY_FIELD))))
    new = deps.executions.find(execution_id)
    aws.dynamodb().put_item(TableName=deps.executions.table, Item=to_item(with_index_keys(EVERY_FIELD)))
    assert "status" in stored_item(deps, execution_id)
    # Then both read the same
    assert deps.executions.find(execution_id) == new


def test_a_time_not_in_the_service_s_own_form_is_stored_as_it_is() -> None:
    # Given times as clock.iso writes them, and text that is not one (no milliseconds, an offset, before 2020)
    for text in ("2026-12-01T11:25:03.071Z", "2020-01-01T00:00:00.000Z", "2054-11-09T12:00:00.999Z"):
        # Then the first are packed (5 bytes until 2054) and read back the same
        packed = pack_time(text)
        assert packed is not None and len(packed) <= 6 and unpack_time(packed) == text
    for text in ("2026-12-01T11:25:03Z", "2026-12-01T11:25:03.071+00:00", "2019-12-31T23:59:59.999Z", "soon"):
        # And the others are left as text
        assert pack_time(text) is None
    assert len(pack_time("2026-12-01T11:25:03.071Z") or b"") == 5


def test_a_typical_answered_call_s_final_item_is_under_1_kb_as_dynamodb_counts(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given an answered simulator call run to its end
    execution = answered_call(client, tenant, pump, deps)
    # Then its final item is under 1 KB as DynamoDB bills it, and as the emulator counts it (the bench's count):
    # the outcome's write is 1 unit (2 in its transaction), not 2 (4)
    assert item_size(stored_item(deps, execution.execution_id)) < 1024
    assert stored_size(deps, execution.execution_id) < 1024


def rewrite_in_old_form(deps: Dependencies, execution_id: str) -> None:
    """The item as the release before stored it: long names, ISO times, every field (the packed timeline kept)."""
    old = read_item(stored_item(deps, execution_id))
    aws.dynamodb().put_item(TableName=deps.executions.table, Item=to_item(old))


@pytest.mark.parametrize("stored_after", ["dispatcher", "dialer"])
def test_a_call_stored_in_the_old_form_goes_through_its_call_and_erasure_as_the_new_form_does(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, stored_after: str
) -> None:
    # Given two answered calls, queued (or claimed: holding their slot), the first rewritten in the old form
    _, agent_id = tenant
    patch_agent(client, tenant, provider_config={"fixed_talk_seconds": 30})
    batch_id, _ = create_and_run(client, tenant, 2)
    pump.step("dispatcher")
    if stored_after == "dialer":
        pump.step("dialer")
    old, new = sorted(deps.executions.iter_batch(batch_id), key=lambda e: e.seq)
    before = deps.executions.find(old.execution_id)
    rewrite_in_old_form(deps, old.execution_id)
    assert "status" in stored_item(deps, old.execution_id)
    assert deps.executions.find(old.execution_id) == before
    # When both are claimed, ring, are answered and end, then are erased
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    for execution in (old, new):
        assert deps.executions.erase(
            execution.execution_id, {"user_number": "+1******0100", "erased_at": clock.now_iso()}
        )
    # Then both ended alike: the same fields, the same outcome, counted once, every slot free
    a, b = deps.executions.find(old.execution_id), deps.executions.find(new.execution_id)
    assert a is not None and b is not None
    shape_a = {k for k, v in a.model_dump().items() if v is not None}
    assert shape_a == {k for k, v in b.model_dump().items() if v is not None}
    assert (a.status, a.hangup_by, a.conversation_duration) == (b.status, b.hangup_by, b.conversation_duration)
    assert [e.get("status") for e in a.timeline or []] == [e.get("status") for e in b.timeline or []]
    counted = deps.batches.find(batch_id).execution_status or {}  # type: ignore[union-attr]
    assert {status: n for status, n in counted.items() if n} == {"completed": 2}
    assert deps.leases.live(agent_key("tenant-a", agent_id)) == 0 == deps.leases.count_live()
    # And neither holds a field under both names, nor the person's data under either
    for execution_id in (old.execution_id, new.execution_id):
        item = stored_item(deps, execution_id)
        assert not {f for f in STORED if f in item and STORED[f] in item}
        assert "2025550100" not in item_text(item) and "Name0" not in item_text(item) and "Name1" not in item_text(item)
        assert not {name for f in PERSONAL for name in (f, STORED.get(f, f)) if name in item}
