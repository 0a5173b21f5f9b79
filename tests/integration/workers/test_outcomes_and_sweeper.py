"""Outcome ordering, exactly-once completion, and what the sweeper repairs."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

from chalice.test import Client

from chalicelib import clock
from chalicelib.domain.messages import ProviderEvent
from chalicelib.services.container import Dependencies
from chalicelib.services.lifecycle import complete_if_done
from chalicelib.store.leases import agent_key
from chalicelib.workers.provider_events import handle_event
from chalicelib.workers.sweeper import sweep
from tests.support.api import post_csv
from tests.support.batches import contacts_csv
from tests.support.pump import Pump


def started_batch(client: Client, tenant: tuple[str, str], pump: Pump, n: int) -> tuple[str, dict[str, str]]:
    """A running batch whose calls are claimed and placed but whose provider events are not yet processed."""
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(n)).body)["batch_id"]
    client.http.post(f"/batches/{batch_id}/run", headers=auth)
    while pump.step("dispatcher"):
        pass
    while pump.step("dialer"):
        pass
    return batch_id, auth


def test_a_late_ringing_never_overwrites_a_final_status(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    batch_id, _ = started_batch(client, tenant, pump, 1)
    [execution] = list(deps.executions.iter_batch(batch_id))
    handle_event(
        deps,
        ProviderEvent(
            execution_id=execution.execution_id,
            provider="simulator",
            status="completed",
            details={"conversation_duration": 12.5, "total_cost": 0.01},
        ),
    )
    handle_event(deps, ProviderEvent(execution_id=execution.execution_id, provider="simulator", status="ringing"))
    handle_event(deps, ProviderEvent(execution_id=execution.execution_id, provider="simulator", status="busy"))
    after = deps.executions.find(execution.execution_id)
    assert after is not None
    assert after.status == "completed" and after.conversation_duration == 12.5
    batch = deps.batches.find(batch_id)
    assert batch is not None and batch.execution_status["completed"] == 1
    assert batch.status == "completed" and batch.finished == 1


def test_completion_is_recorded_once_when_the_last_calls_end_together(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given every call of a batch ended, and eight workers noticing it at the same moment
    batch_id, _ = started_batch(client, tenant, pump, 3)
    for execution in deps.executions.iter_batch(batch_id):
        deps.executions.move(execution, "completed")
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def finish() -> None:
        barrier.wait()
        results.append(complete_if_done(deps, batch_id))

    threads = [threading.Thread(target=finish) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly one of them recorded the completion
    assert results.count(True) == 1
    assert deps.batches.find(batch_id).status == "completed"  # type: ignore[union-attr]


def test_sweeper_errors_calls_that_never_report_and_completes_the_batch(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given placed calls whose provider never reports back
    batch_id, auth = started_batch(client, tenant, pump, 4)
    purge_events(deps)
    # When less than the report timeout has passed, the sweeper leaves them alone
    pump.advance(deps.settings.call_report_timeout_seconds / 2)
    assert sweep(deps).unreported == 0
    # And after the timeout they become `error`, counted, and the batch completes
    pump.advance(deps.settings.call_report_timeout_seconds)
    report = sweep(deps)
    assert report.unreported == 4
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert batch["status"] == "completed" and batch["execution_status"] == {"error": 4}


def test_sweeper_errors_claims_never_placed(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(2)).body)["batch_id"]
    client.http.post(f"/batches/{batch_id}/run", headers=auth)
    while pump.step("dispatcher"):
        pass
    # Given claims whose dialer died before the provider was called
    for execution in deps.executions.iter_batch(batch_id):
        deps.executions.move(execution, "initiated", {"claimed_at": "x"})
    pump.advance(deps.settings.claim_timeout_seconds + 5)
    report = sweep(deps)
    assert report.unplaced == 2
    assert deps.batches.find(batch_id).status == "completed"  # type: ignore[union-attr]
    messages = {e.error_message for e in deps.executions.iter_batch(batch_id)}
    assert messages == {"the call was claimed but its placement was never confirmed"}


def test_a_swept_call_records_when_it_ended(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    """Found by the chaos test (issue 18, `make chaos FIRST=1 SEEDS=9`): a claim the sweeper gave up had no
    `ended_at`, so its slot looked held for ever and the live-call invariant could not be checked."""
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(2)).body)["batch_id"]
    client.http.post(f"/batches/{batch_id}/run", headers=auth)
    while pump.step("dispatcher"):
        pass
    # Given claims whose dialer died before the provider was called
    for execution in deps.executions.iter_batch(batch_id):
        deps.executions.move(execution, "initiated", {"claimed_at": clock.now_iso()})
    # When the sweeper gives them up after the claim timeout
    pump.advance(deps.settings.claim_timeout_seconds + 5)
    swept_from = clock.now_iso()
    assert sweep(deps).unplaced == 2
    # Then each says when it ended: at the sweep, after its claim
    ended = [e.ended_at for e in deps.executions.iter_batch(batch_id)]
    assert all(end is not None and end >= swept_from for end in ended), ended


def test_a_call_still_live_keeps_its_slot_past_its_lease_until_the_sweeper_ends_it(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    """Found by the chaos test (issue 18, `make chaos FIRST=42 SEEDS=1`): the lease expires an hour after the
    claim, the call's report is overdue an hour after its last change; the sweeper freed the slot of a call
    that had rung meanwhile, and a second call went live on a one-slot agent while the first still was."""
    # Given a placed call that rang half an hour later, then never reported again
    batch_id, _ = started_batch(client, tenant, pump, 1)
    purge_events(deps)
    [execution] = list(deps.executions.iter_batch(batch_id))
    slot = agent_key(execution.tenant_id, execution.agent_id)
    timeout = deps.settings.call_report_timeout_seconds
    pump.advance(timeout / 2)
    handle_event(deps, ProviderEvent(execution_id=execution.execution_id, provider="simulator", status="ringing"))
    # When the sweeper runs after its lease expired, before its report is overdue
    pump.advance(timeout / 2 + 60)
    sweep(deps)
    # Then the call is still live and still holds its slot
    assert deps.executions.find(execution.execution_id).status == "ringing"  # type: ignore[union-attr]
    assert deps.leases.live(slot) == 1
    # And once its report is overdue the sweeper ends it and frees the slot
    pump.advance(timeout / 2)
    assert sweep(deps).unreported == 1
    assert deps.executions.find(execution.execution_id).status == "error"  # type: ignore[union-attr]
    assert deps.leases.live(slot) == 0


def test_sweeper_restarts_a_stalled_dispatch(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    from chalicelib import aws
    from chalicelib.domain.batch_status import STARTABLE, BatchStatus
    from chalicelib.resources import CONTROL_QUEUE

    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(3)).body)["batch_id"]
    client.http.post(f"/batches/{batch_id}/run", headers=auth)
    # Given the batch went running but the message for its first step was lost (a crash between two writes)
    aws.sqs().purge_queue(QueueUrl=deps.queues.url(CONTROL_QUEUE))
    deps.batches.transition(batch_id, STARTABLE, BatchStatus.RUNNING)
    pump.run()
    assert deps.executions.page_for_batch(batch_id, limit=10, cursor=None, status=None)[0] == []
    pump.advance(timedelta(minutes=3).total_seconds())
    assert sweep(deps).resumed_dispatches == 1
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed")  # type: ignore[union-attr]


def purge_events(deps: Dependencies) -> None:
    from chalicelib import aws
    from chalicelib.resources import PROVIDER_EVENTS_QUEUE

    aws.sqs().purge_queue(QueueUrl=deps.queues.url(PROVIDER_EVENTS_QUEUE))


def batch_with_a_lost_start(client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump) -> str:
    """A batch scheduled 5 minutes ahead whose start message was lost, with the clock moved past its start."""
    from datetime import UTC, datetime

    from chalicelib import aws
    from chalicelib.resources import CONTROL_QUEUE

    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(2)).body)["batch_id"]
    start = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    response = client.http.post(
        f"/batches/{batch_id}/schedule",
        body=json.dumps({"scheduled_at": start}),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.body
    aws.sqs().purge_queue(QueueUrl=deps.queues.url(CONTROL_QUEUE))
    pump.advance(timedelta(minutes=8).total_seconds())
    return batch_id


def test_a_start_stored_in_the_year_9999_cannot_stop_other_batches_from_being_recovered(
    client: Client, tenant: tuple[str, str], other_tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    from chalicelib.domain.batch_status import SCHEDULABLE, BatchStatus

    # Given another tenant's batch whose start lies in the year 9999 (stored before starts were bounded)
    other_key, other_agent = other_tenant
    poisoned = json.loads(post_csv(client, other_key, {"agent_id": other_agent}, contacts_csv(1)).body)["batch_id"]
    deps.batches.transition(
        poisoned,
        SCHEDULABLE,
        BatchStatus.SCHEDULED,
        set_fields={"scheduled_at": "9999-12-31T23:59:59.000Z", "start_token": "t"},
    )
    # And a batch whose start message was lost
    batch_id = batch_with_a_lost_start(client, tenant, deps, pump)
    # When the sweeper runs
    report = sweep(deps)
    # Then the lost start is recovered and the batch runs to completion; the far-future one just waits
    assert report.restarted_batches == 1 and report.failures == 0
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=30)  # type: ignore[union-attr]
    assert deps.batches.find(poisoned).status == "scheduled"  # type: ignore[union-attr]


def test_one_batch_that_fails_to_sweep_is_logged_and_skipped_and_the_others_are_recovered(
    client: Client,
    tenant: tuple[str, str],
    other_tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    monkeypatch: Any,
    caplog: Any,
) -> None:
    from chalicelib.services import sweeping

    # Given a running batch whose sweep raises (any bug or bad item), and another batch whose start was lost
    poisoned, _ = started_batch(client, other_tenant, pump, 1)
    batch_id = batch_with_a_lost_start(client, tenant, deps, pump)
    real = sweeping.complete_if_done

    def complete_if_done(deps: Dependencies, swept: str) -> bool:
        if swept == poisoned:
            raise OverflowError("date value out of range")
        return real(deps, swept)

    monkeypatch.setattr(sweeping, "complete_if_done", complete_if_done)
    # When the sweeper runs
    report = sweep(deps)
    # Then the failure is counted and logged with its batch id, and the other batch's start is recovered
    assert report.failures == 1 and report.restarted_batches == 1
    [failed] = [r for r in caplog.records if r.getMessage().startswith("sweep step failed")]
    assert failed.batch_id == poisoned and failed.exc_info is not None
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=30)  # type: ignore[union-attr]


def test_a_failed_read_of_the_open_calls_still_lets_the_sweeper_recover_batches(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, monkeypatch: Any, caplog: Any
) -> None:
    """Found by the chaos test (issue 18, seed 162): a crash in the query of open calls, outside any one item's
    isolation, ended the whole sweep, and with it the recovery of every lease and batch until the next one."""
    # Given a batch whose start was lost, and a sweep whose query of open calls fails (throttled, a 5xx, a bug)
    batch_id = batch_with_a_lost_start(client, tenant, deps, pump)

    def open_before(cutoff_iso: str) -> Any:
        raise ConnectionError("the open calls' index could not be read")
        yield  # a generator, like the store's

    monkeypatch.setattr(deps.executions, "open_before", open_before)
    # When the sweeper runs
    report = sweep(deps)
    # Then the failure is counted and logged, and the lost start is still recovered
    assert report.failures == 1 and report.restarted_batches == 1
    assert [r.step for r in caplog.records if r.getMessage().startswith("sweep step failed")] == ["open_executions"]
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=30)  # type: ignore[union-attr]
