"""Outcome ordering, exactly-once completion, and what the sweeper repairs."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

from chalice.test import Client

from chalicelib.domain.messages import ProviderEvent
from chalicelib.services.container import Services
from chalicelib.services.lifecycle import complete_if_done
from chalicelib.workers.outcomes import handle_event
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
    client: Client, tenant: tuple[str, str], pump: Pump, svc: Services
) -> None:
    batch_id, _ = started_batch(client, tenant, pump, 1)
    [execution] = list(svc.executions.iter_batch(batch_id))
    handle_event(
        svc,
        ProviderEvent(
            execution_id=execution.execution_id,
            provider="simulator",
            status="completed",
            details={"conversation_duration": 12.5, "total_cost": 0.01},
        ),
    )
    handle_event(svc, ProviderEvent(execution_id=execution.execution_id, provider="simulator", status="ringing"))
    handle_event(svc, ProviderEvent(execution_id=execution.execution_id, provider="simulator", status="busy"))
    after = svc.executions.find(execution.execution_id)
    assert after is not None
    assert after.status == "completed" and after.conversation_duration == 12.5
    batch = svc.batches.find(batch_id)
    assert batch is not None and batch.execution_status["completed"] == 1
    assert batch.status == "completed" and batch.finished == 1


def test_completion_is_recorded_once_when_the_last_calls_end_together(
    client: Client, tenant: tuple[str, str], pump: Pump, svc: Services
) -> None:
    # Given every call of a batch ended, and eight workers noticing it at the same moment
    batch_id, _ = started_batch(client, tenant, pump, 3)
    for execution in svc.executions.iter_batch(batch_id):
        svc.executions.move(execution, "completed")
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def finish() -> None:
        barrier.wait()
        results.append(complete_if_done(svc, batch_id))

    threads = [threading.Thread(target=finish) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly one of them recorded the completion
    assert results.count(True) == 1
    assert svc.batches.find(batch_id).status == "completed"  # type: ignore[union-attr]


def test_sweeper_errors_calls_that_never_report_and_completes_the_batch(
    client: Client, tenant: tuple[str, str], pump: Pump, svc: Services
) -> None:
    # Given placed calls whose provider never reports back
    batch_id, auth = started_batch(client, tenant, pump, 4)
    purge_events(svc)
    # When less than the report timeout has passed, the sweeper leaves them alone
    pump.advance(svc.settings.call_report_timeout_seconds / 2)
    assert sweep(svc).unreported == 0
    # And after the timeout they become `error`, counted, and the batch completes
    pump.advance(svc.settings.call_report_timeout_seconds)
    report = sweep(svc)
    assert report.unreported == 4
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert batch["status"] == "completed" and batch["execution_status"] == {"error": 4}


def test_sweeper_errors_claims_never_placed(client: Client, tenant: tuple[str, str], pump: Pump, svc: Services) -> None:
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(2)).body)["batch_id"]
    client.http.post(f"/batches/{batch_id}/run", headers=auth)
    while pump.step("dispatcher"):
        pass
    # Given claims whose dialer died before the provider was called
    for execution in svc.executions.iter_batch(batch_id):
        svc.executions.move(execution, "initiated", {"claimed_at": "x"})
    pump.advance(svc.settings.claim_timeout_seconds + 5)
    report = sweep(svc)
    assert report.unplaced == 2
    assert svc.batches.find(batch_id).status == "completed"  # type: ignore[union-attr]
    messages = {e.error_message for e in svc.executions.iter_batch(batch_id)}
    assert messages == {"the call was claimed but its placement was never confirmed"}


def test_sweeper_restarts_a_stalled_dispatch(
    client: Client, tenant: tuple[str, str], pump: Pump, svc: Services
) -> None:
    from chalicelib import aws
    from chalicelib.domain.batch_status import STARTABLE, BatchStatus
    from chalicelib.resources import CONTROL_QUEUE

    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(3)).body)["batch_id"]
    client.http.post(f"/batches/{batch_id}/run", headers=auth)
    # Given the batch went running but the message for its first step was lost (a crash between two writes)
    aws.sqs().purge_queue(QueueUrl=svc.queues.url(CONTROL_QUEUE))
    svc.batches.transition(batch_id, STARTABLE, BatchStatus.RUNNING)
    pump.run()
    assert svc.executions.page_for_batch(batch_id, limit=10, cursor=None, status=None)[0] == []
    pump.advance(timedelta(minutes=3).total_seconds())
    assert sweep(svc).resumed_dispatches == 1
    pump.run(until=lambda: svc.batches.find(batch_id).status == "completed")  # type: ignore[union-attr]


def purge_events(svc: Services) -> None:
    from chalicelib import aws
    from chalicelib.resources import EVENTS_QUEUE

    aws.sqs().purge_queue(QueueUrl=svc.queues.url(EVENTS_QUEUE))


def batch_with_a_lost_start(client: Client, tenant: tuple[str, str], svc: Services, pump: Pump) -> str:
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
    aws.sqs().purge_queue(QueueUrl=svc.queues.url(CONTROL_QUEUE))
    pump.advance(timedelta(minutes=8).total_seconds())
    return batch_id


def test_a_start_stored_in_the_year_9999_cannot_stop_other_batches_from_being_recovered(
    client: Client, tenant: tuple[str, str], other_tenant: tuple[str, str], pump: Pump, svc: Services
) -> None:
    from chalicelib.domain.batch_status import SCHEDULABLE, BatchStatus

    # Given another tenant's batch whose start lies in the year 9999 (stored before starts were bounded)
    other_key, other_agent = other_tenant
    poisoned = json.loads(post_csv(client, other_key, {"agent_id": other_agent}, contacts_csv(1)).body)["batch_id"]
    svc.batches.transition(
        poisoned,
        SCHEDULABLE,
        BatchStatus.SCHEDULED,
        set_fields={"scheduled_at": "9999-12-31T23:59:59.000Z", "start_token": "t"},
    )
    # And a batch whose start message was lost
    batch_id = batch_with_a_lost_start(client, tenant, svc, pump)
    # When the sweeper runs
    report = sweep(svc)
    # Then the lost start is recovered and the batch runs to completion; the far-future one just waits
    assert report.restarted_batches == 1 and report.failures == 0
    pump.run(until=lambda: svc.batches.find(batch_id).status == "completed", advance_seconds=30)  # type: ignore[union-attr]
    assert svc.batches.find(poisoned).status == "scheduled"  # type: ignore[union-attr]


def test_one_batch_that_fails_to_sweep_is_logged_and_skipped_and_the_others_are_recovered(
    client: Client,
    tenant: tuple[str, str],
    other_tenant: tuple[str, str],
    pump: Pump,
    svc: Services,
    monkeypatch: Any,
    caplog: Any,
) -> None:
    from chalicelib.services import sweeping

    # Given a running batch whose sweep raises (any bug or bad item), and another batch whose start was lost
    poisoned, _ = started_batch(client, other_tenant, pump, 1)
    batch_id = batch_with_a_lost_start(client, tenant, svc, pump)
    real = sweeping.complete_if_done

    def complete_if_done(svc: Services, swept: str) -> bool:
        if swept == poisoned:
            raise OverflowError("date value out of range")
        return real(svc, swept)

    monkeypatch.setattr(sweeping, "complete_if_done", complete_if_done)
    # When the sweeper runs
    report = sweep(svc)
    # Then the failure is counted and logged with its batch id, and the other batch's start is recovered
    assert report.failures == 1 and report.restarted_batches == 1
    [failed] = [r for r in caplog.records if r.getMessage().startswith("sweep step failed")]
    assert failed.batch_id == poisoned and failed.exc_info is not None
    pump.run(until=lambda: svc.batches.find(batch_id).status == "completed", advance_seconds=30)  # type: ignore[union-attr]
