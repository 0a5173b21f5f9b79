"""The names and elements of a batch's counters kept on its agent's live-call shards (store/batches.py CO_FIELD):
short names that read back as the counters they stand for, the claim's and the outcome's single element on the
agent's shard, the fold's removals, and where a claim of such a batch starts among the agent's shards."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.records import Execution
from chalicelib.settings import Settings
from chalicelib.store import batches, executions, leases
from chalicelib.store.batches import (
    HALTED,
    BatchStore,
    Ended,
    co_counter,
    co_name,
    co_place,
    co_shard,
    co_tag,
    live_shard_key,
)
from chalicelib.store.dynamo import av
from chalicelib.store.execution_item import CO_COUNTED

STORE = BatchStore(Settings())
TAG = co_tag("batch-1")
AGENT = "tenant-a#agent-1"


@pytest.mark.parametrize(
    "name",
    [
        *batches.SUMMED,
        *(batches.STATUS_PREFIX + s for s in ("queued", "initiated", "in-progress", "contact_limited", "new-one")),
        "xb#plan#gold",
    ],
)
def test_each_counter_has_a_short_name_under_the_batchs_tag_that_reads_back_as_itself(name: str) -> None:
    # Given a counter a claim or an outcome moves
    # When it is named on the agent's shard
    short = co_name(TAG, name)
    # Then the name is the batch's 8-character tag and a short code, and reads back as the counter
    assert short.startswith(TAG) and len(TAG) == 8
    assert co_counter(TAG, short) == name
    assert co_counter(co_tag("batch-2"), short) is None  # another batch's tag: not its counter


def test_a_name_that_is_no_counter_is_refused_and_the_halted_marker_reads_as_none() -> None:
    # Given a field no claim or outcome moves, and the batch's halted marker
    # When each is named or read back
    # Then the field has no short name, and the marker is no counter
    with pytest.raises(ValueError):
        co_name(TAG, "valid_contacts")
    assert co_counter(TAG, TAG + HALTED) is None
    assert co_counter(TAG, TAG + "zz") is None


def test_an_agent_shard_item_names_the_batches_it_carries() -> None:
    # Given a shard item with two batches' attributes beside the agent's own
    other = co_tag("batch-2")
    item = {"agent_key": AGENT, "lease_id": "live", "live": 2, co_name(TAG, "live"): 1, other + HALTED: 1}
    # When the batches it carries are counted
    # Then each tag counts once, the agent's own attributes none
    assert batches._co_tags(item) == {TAG, other}


def test_the_counters_read_on_a_shard_are_added_to_the_batchs_fields() -> None:
    # Given a batch item's fields and one agent shard holding its counters (and another batch's)
    fields: dict[str, Any] = {"finished": 1, "execution_status": {"queued": 3}}
    shard = {
        co_name(TAG, "finished"): 2,
        co_name(TAG, batches.STATUS_PREFIX + "queued"): -2,
        co_name(TAG, batches.STATUS_PREFIX + "completed"): 2,
        co_name(TAG, "xb#plan#gold"): 1,
        co_name(co_tag("batch-2"), "finished"): 7,
        TAG + HALTED: 1,
    }
    # When they are added in
    batches._add_co(fields, TAG, shard)
    # Then the batch's sums include its own, and none of the other batch's
    assert fields["finished"] == 3 and fields["xb#plan#gold"] == 1
    assert fields["execution_status"] == {"queued": 1, "completed": 2}


def test_an_execution_counted_on_its_agents_shard_says_which_and_one_counted_elsewhere_none() -> None:
    # Given an execution whose claim counted on shard 2 (recorded as 3), one claimed on shard 0, and one not there
    # When its place is read
    # Then it is that shard's key with the batch's tag; the others' shard 0, and none
    assert co_shard({CO_COUNTED: 3}) == 2 and co_shard({CO_COUNTED: 1}) == 0 and co_shard({}) is None
    assert co_place("batch-1", {CO_COUNTED: 3}, "tenant-a", "agent-1") == (f"{AGENT}#live2", TAG)
    assert co_place("batch-1", {CO_COUNTED: 1}, "tenant-a", "agent-1") == (AGENT, TAG)
    assert co_place("batch-1", {"batch_shard": 2}, "tenant-a", "agent-1") is None
    assert live_shard_key(AGENT, 0) == leases.shard_key(AGENT, 0) == AGENT


def test_a_claims_element_on_the_agents_shard_takes_the_slot_and_counts_only_while_the_batch_runs() -> None:
    # Given a claim of an execution counted on the agent's shard 1, its share of the agent's limit 4
    place = (live_shard_key(AGENT, 1), TAG)
    # When its counters' element is built
    element = STORE.counter_update(
        "batch-1", {"queued": -1, "initiated": 1}, must_run=True, live_cap=10**6, co=place, slot_limit=4
    )["Update"]
    # Then it is one Update on the agent's live-call item: the batch's counters and live, the agent's live, on
    # the conditions that the batch is not halted and the shard has room; a refusal returns the item
    assert element["TableName"] == STORE.leases_table
    assert element["Key"] == {"agent_key": av(f"{AGENT}#live1"), "lease_id": av("live")}
    names = element["ExpressionAttributeNames"]
    assert {names[n] for n in names if n.startswith("#c")} == {
        co_name(TAG, "es#queued"),
        co_name(TAG, "es#initiated"),
        co_name(TAG, "live"),
    }
    assert "live :slot" in element["UpdateExpression"] and element["ExpressionAttributeValues"][":slot"] == av(1)
    assert (
        element["ConditionExpression"] == "attribute_not_exists(#h) AND (attribute_not_exists(live) OR live < :limit)"
    )
    assert names["#h"] == TAG + HALTED and element["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def test_an_outcomes_element_frees_the_slot_and_adds_the_call_only_while_another_call_of_the_batch_is_live() -> None:
    # Given an answered call's outcome, counted on the agent's shard 0, that frees its slot
    place = (AGENT, TAG)
    # When its counters' element is built with `not_last`
    element = STORE.counter_update(
        "batch-1",
        {"initiated": -1, "completed": 1},
        finished=1,
        ended=Ended(cost=0.5, talk_seconds=30),
        released=True,
        not_last=9,
        co=place,
    )["Update"]
    # Then the batch's live and the agent's move down by one, its end is added, and it holds only while another call
    # of the batch counted there is live
    assert element["ExpressionAttributeValues"][":slot"] == av(-1)
    assert element["ConditionExpression"] == "#l > :one" and element["ExpressionAttributeNames"]["#l"] == TAG + "l"
    assert len(element["UpdateExpression"].split(", ")) == 9  # 2 statuses, finished, live, 4 ended, the slot


def test_a_change_with_nothing_to_count_but_a_condition_is_a_condition_check() -> None:
    # Given a retry's counters on the agent's shard that move nothing (its statuses cancel out)
    # When its element is built
    element = STORE.counter_update("batch-1", {}, must_run=True, co=(AGENT, TAG))
    # Then it is a ConditionCheck that the batch is not halted
    assert list(element) == ["ConditionCheck"]
    assert element["ConditionCheck"]["ConditionExpression"] == "attribute_not_exists(#h)"


def test_the_fold_removes_each_attribute_only_while_it_holds_what_was_read() -> None:
    # Given a shard holding two of the batch's counters
    shard = {"agent_key": AGENT, "lease_id": "live", "live": 1, TAG + "f": 3, TAG + "l": 0}
    # When the fold's element for it is built
    element = batches._co_removal(STORE.leases_table, shard, {TAG + "f": 3, TAG + "l": 0})["Update"]
    # Then it removes both, each on the condition that it still holds the value read
    assert element["UpdateExpression"] == "REMOVE #a0, #a1"
    assert element["ConditionExpression"] == "#a0 = :a0 AND #a1 = :a1"
    assert element["ExpressionAttributeValues"] == {":a0": av(3), ":a1": av(0)}
    names: dict[str, str] = {}
    vals: dict[str, Any] = {}
    assert batches._status_adds(names, vals, {"completed": 3, "initiated": 0}) == ["#es.#s0 :d0", "#es.#s1 :d1"]
    assert batches._named_tallies(names, vals, {"xb#plan#gold": 1}) == ["#t0 :t0"]


def test_a_claim_of_a_batch_on_its_agents_shards_starts_among_as_few_shards_as_its_contacts_need() -> None:
    # Given an agent allowing 256 live calls (8 shards of 32), and a batch of 40 contacts counting on its shards
    firsts = {leases.claim_order(f"e{i}", 256, "batch-1", 40)[0] for i in range(200)}
    # When its claims choose where to start
    # Then they start in 2 shards (40 contacts need 2 shares of 32), next to each other; every shard stays in the order
    assert len(firsts) == 2
    assert sorted(leases.claim_order("e1", 256, "batch-1", 40)) == list(range(8))
    assert len({leases.claim_order(f"e{i}", 256)[0] for i in range(200)}) == 8  # other claims: every shard


def test_a_transactions_elements_on_the_item_its_counters_write_are_left_out() -> None:
    # Given a co-located claim's counters element and the agent's own slot element on the same item, and another
    counters = STORE.counter_update("batch-1", {"initiated": 1}, live_cap=1, co=(AGENT, TAG), slot_limit=2)
    same = {
        "Update": {"TableName": STORE.leases_table, "Key": counters["Update"]["Key"], "UpdateExpression": "ADD x :y"}
    }
    other = {"Update": {"TableName": STORE.leases_table, "Key": {"agent_key": av("k"), "lease_id": av("spend#m")}}}
    execution = Execution.model_validate(
        {
            "execution_id": "e1",
            "batch_id": "batch-1",
            "tenant_id": "tenant-a",
            "agent_id": "agent-1",
            "status": "queued",
            "user_number": "+12025550100",
            "contact_index": 0,
            "created_at": "2026-12-01T00:00:00.000Z",
            "updated_at": "2026-12-01T00:00:00.000Z",
        }
    )
    # When the claim's elements are sorted out
    release, extra = executions._off_counted(execution, {CO_COUNTED: 1}, counters, [same], [same, other])
    # Then the one on the counters' item is left out, and the counters' element names the batch's marker
    assert release == [] and extra == [other]
    assert executions._off_counted(execution, {}, counters, [same], None) == ([same], None)
    assert executions._halted_name(counters) is None  # no must_run: no marker named
