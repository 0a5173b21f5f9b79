"""Campaign controls on a controllable clock: live-call limits, leases, retries, calling hours."""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from chalice.test import Client

from chalicelib import aws, clock
from chalicelib.services.container import Dependencies
from chalicelib.store.dynamo import index_shard, to_item
from chalicelib.store.execution_item import stored_name
from chalicelib.store.leases import LEASE, agent_key
from chalicelib.workers.sweeper import sweep
from tests.support.api import post_csv
from tests.support.batches import contacts_csv, create_and_run, make_batch, patch_agent
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider

FINAL = {"completed", "no-answer", "busy", "failed", "error", "canceled"}


def live_calls(deps: Dependencies, batch_id: str) -> int:
    return sum(1 for e in deps.executions.iter_batch(batch_id) if e.status in {"initiated", "ringing", "in-progress"})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_racing_dialers_never_exceed_the_agents_limit(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider, seed: int
) -> None:
    # Given an agent with a random live-call limit and calls that never report back (so slots stay taken)
    rng = random.Random(seed)
    limit = rng.randint(1, 5)
    patch_agent(client, tenant, max_concurrent_calls=limit)
    scripted.report = False
    batch_id, _ = create_and_run(client, tenant, 12)
    while pump.step("dispatcher"):
        pass
    # When several dialers race over every dial message (and the waiting re-sends) at once
    threads = [
        threading.Thread(target=lambda: [pump.step("dialer") for _ in range(6)]) for _ in range(rng.randint(3, 6))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly `limit` calls were placed and hold a slot; the rest wait, queued, not failed
    assert len(scripted.dials) == limit
    assert live_calls(deps, batch_id) == limit
    assert deps.leases.live(agent_key("tenant-a", tenant[1])) == limit
    statuses = Counter(str(e.status) for e in deps.executions.iter_batch(batch_id))
    assert statuses["queued"] == 12 - limit


def test_a_batch_cap_below_the_agents_limit_is_honoured(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    patch_agent(client, tenant, max_concurrent_calls=10)
    scripted.report = False
    batch_id, _ = create_and_run(client, tenant, 8, max_concurrent_calls="2")
    for _ in range(5):
        pump.step("dispatcher")
        pump.step("dialer")
    assert len(scripted.dials) == 2 and live_calls(deps, batch_id) == 2


def test_leases_are_released_on_final_status_and_reclaimed_when_calls_never_report(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    key = agent_key("tenant-a", tenant[1])
    patch_agent(client, tenant, max_concurrent_calls=2)
    # Calls that report: slots come back, the whole batch completes with never more than 2 live
    batch_id, _ = create_and_run(client, tenant, 6)
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    assert deps.leases.live(key) == 0 and len(scripted.dials) == 6
    # Calls that never report: the slots stay taken until the sweeper reclaims them
    scripted.report = False
    batch_id, _ = create_and_run(client, tenant, 4)
    for _ in range(4):
        pump.step("dispatcher")
        pump.step("dialer")
    assert deps.leases.live(key) == 2 and len(scripted.dials) == 8
    pump.advance(deps.settings.call_report_timeout_seconds + 60)
    assert sweep(deps).unreported == 2
    assert deps.leases.live(key) == 0
    scripted.report = True
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=5)  # type: ignore[union-attr]
    assert len(scripted.dials) == 10


RETRY = {
    "enabled": True,
    "max_retries": 2,
    "retry_on_statuses": ["no-answer", "busy"],
    "retry_intervals_minutes": [5, 30],
}


def test_retries_follow_the_interval_list_exactly_and_the_last_attempt_counts(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given contact 0 does not answer twice then answers; contact 1 is busy every time; contact 2 answers
    scripted.script = {(0, 1): "no-answer", (0, 2): "no-answer", (1, 1): "busy", (1, 2): "busy", (1, 3): "busy"}
    batch_id, auth = create_and_run(client, tenant, 3, retry_config=json.dumps(RETRY))
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=20)  # type: ignore[union-attr]
    # Then each retry came after its interval: +5 min, then +30 min (a Scheduler schedule, over 15 minutes)
    by_number: dict[str, list[tuple[int, datetime]]] = {}
    for number, attempt, at in scripted.dials:
        by_number.setdefault(number, []).append((attempt, at))
    first, busy, answered = (by_number[f"+1202555{100 + i:04d}"] for i in range(3))
    assert [a for a, _ in first] == [1, 2, 3] and [a for a, _ in busy] == [1, 2, 3] and len(answered) == 1
    for attempts in (first, busy):
        gaps = [(b[1] - a[1]).total_seconds() / 60 for a, b in itertools.pairwise(attempts)]
        assert 5 <= gaps[0] < 5.5 and 30 <= gaps[1] < 31.5, gaps
    # And the batch counts each contact once, by its last attempt
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert batch["execution_status"] == {"completed": 2, "busy": 1}
    executions = json.loads(client.http.get(f"/batches/{batch_id}/executions", headers=auth).body)
    assert len(executions) == 7
    last = next(e for e in executions if e["user_number"] == "+12025550100" and e["attempt"] == 3)
    assert last["retry_count"] == 2 and [h["status"] for h in last["retry_history"]] == ["no-answer", "no-answer"]


def test_a_stopped_batch_never_retries(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    scripted.script = {(0, 1): "no-answer"}
    batch_id, auth = create_and_run(client, tenant, 1, retry_config=json.dumps(RETRY))
    pump.step("dispatcher")
    pump.step("dialer")
    assert client.http.post(f"/batches/{batch_id}/stop", headers=auth).status_code == 200
    pump.run(advance_seconds=60, until=lambda: pump.advanced_seconds > 3600)
    assert len(scripted.dials) == 1
    executions = list(deps.executions.iter_batch(batch_id))
    assert [e.status for e in executions] == ["no-answer"]


def test_calls_outside_calling_hours_are_rescheduled_to_the_next_window(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given calling hours 9-17 on weekdays, and a batch run on a Saturday noon in Washington (UTC-5 in winter)
    patch_agent(client, tenant, call_start_hour=9, call_end_hour=17, call_days=["mon", "tue", "wed", "thu", "fri"])
    saturday_noon = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
    with time_machine.travel(saturday_noon, tick=True):
        batch_id, auth = create_and_run(client, tenant, 2)
        pump.step("dispatcher")
        pump.step("dialer")
        # Then nothing is dialled, and the calls wait as `rescheduled` for Monday 09:00 in the recipient's zone
        assert scripted.dials == []
        executions = list(deps.executions.iter_batch(batch_id))
        assert {e.status for e in executions} == {"rescheduled"}
        assert {e.scheduled_at for e in executions} == {"2026-11-30T14:00:00.000Z"}
        batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
        assert batch["execution_status"] == {"rescheduled": 2}
    # When the clock reaches Monday morning, they are dialled then, not before
    pump.advance((datetime(2026, 11, 30, 14, 0, tzinfo=UTC) - datetime.now(UTC)).total_seconds() - 120)
    pump.run()
    assert scripted.dials == []
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=30)  # type: ignore[union-attr]
    assert all(at >= datetime(2026, 11, 30, 14, 0, tzinfo=UTC) for _, _, at in scripted.dials)
    assert len(scripted.dials) == 2


def test_calls_waiting_for_their_calling_hours_are_left_alone_by_the_sweeper(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given calls rescheduled on a Saturday to Monday's window
    patch_agent(client, tenant, call_start_hour=9, call_end_hour=17, call_days=["mon", "tue", "wed", "thu", "fri"])
    with time_machine.travel(datetime(2026, 11, 28, 17, 0, tzinfo=UTC), tick=True) as traveller:
        batch_id, _ = create_and_run(client, tenant, 2)
        pump.step("dispatcher")
        pump.step("dialer")
        # When the sweeper runs an hour later (well past CLAIM_TIMEOUT_SECONDS)
        traveller.shift(3600)
        report = sweep(deps)
    # Then it ends none of them: they were never claimed, no provider owes a status
    assert report.unplaced == 0
    assert {e.status for e in deps.executions.iter_batch(batch_id)} == {"rescheduled"}


def test_bypass_call_guardrails_skips_the_window(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    patch_agent(client, tenant, call_start_hour=9, call_end_hour=17, call_days=["mon"])
    with time_machine.travel(datetime(2026, 11, 28, 17, 0, tzinfo=UTC), tick=True):
        create_and_run(client, tenant, 2, bypass_call_guardrails="true")
        pump.run()
    assert len(scripted.dials) == 2


def test_retry_config_errors_name_the_field(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    response = post_csv(
        client, key, {"agent_id": agent_id, "retry_config": json.dumps({"max_retries": 5})}, contacts_csv(1)
    )
    assert response.status_code == 400
    assert json.loads(response.body)["details"][0]["field"] == "retry_config.max_retries"


def test_agent_retry_config_is_the_default(client: Client, tenant: tuple[str, str], deps: Dependencies) -> None:
    patch_agent(client, tenant, retry_config=RETRY)
    batch_id, auth = make_batch(client, tenant, 1)
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert batch["retry_config"]["retry_intervals_minutes"] == [5, 30]


def legacy_lease(deps: Dependencies, key: str, execution_id: str, batch_id: str) -> None:
    """Rewrite a claimed call's lease as the release before the fold stored it: an item of its own."""
    table = deps.executions.table
    aws.dynamodb().update_item(
        TableName=table,
        Key=deps.executions.key(execution_id),
        UpdateExpression="REMOVE #l",
        ExpressionAttributeNames={"#l": stored_name(LEASE)},
    )
    expires = clock.iso(clock.now() + timedelta(seconds=deps.settings.call_report_timeout_seconds))
    item = {"agent_key": key, "lease_id": execution_id, "batch_id": batch_id, "expires_at": expires}
    aws.dynamodb().put_item(
        TableName=deps.leases.table, Item=to_item({**item, "lease_shard": index_shard(execution_id)})
    )


def test_an_expired_lease_whose_release_was_lost_is_reclaimed(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a slot taken by a call, and the release lost (the outcome handler died after recording the status)
    key = agent_key("tenant-a", tenant[1])
    scripted.report = False
    batch_id, _ = create_and_run(client, tenant, 1)
    pump.step("dispatcher")
    pump.step("dialer")
    [execution] = list(deps.executions.iter_batch(batch_id))
    # (since the lease is on the execution, its final write frees the slot with it: a release can be lost only
    # for a call claimed before, whose lease is an item of its own)
    legacy_lease(deps, key, execution.execution_id, batch_id)
    deps.executions.move(execution, "completed")
    assert deps.leases.live(key) == 1
    # When the lease has expired, the sweeper frees the slot, once
    pump.advance(deps.settings.call_report_timeout_seconds + 1)
    assert sweep(deps).reclaimed_leases == 1
    assert sweep(deps).reclaimed_leases == 0
    assert deps.leases.live(key) == 0
