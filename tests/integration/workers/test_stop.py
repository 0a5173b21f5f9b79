"""A batch that ends early accounts for every contact: the ones never dialled are `canceled` executions,
counted, listed and exported, within the queue steps that follow the stop (no sweeper needed)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

import pytest
import requests
from chalice.test import Client

from chalicelib import aws
from chalicelib.domain.messages import ProviderEvent
from chalicelib.resources import CONTROL_QUEUE, DIAL_QUEUE, PROVIDER_EVENTS_QUEUE
from chalicelib.services import lifecycle
from chalicelib.services.container import Dependencies
from chalicelib.workers.sweeper import sweep
from tests.support.batches import create_and_run, executions_of, patch_agent
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider
from tests.support.webhook_spy import spy_webhooks

CONTACTS = 50
FINAL = {"completed", "no-answer", "busy", "failed", "error", "canceled"}


def started(client: Client, tenant: tuple[str, str], pump: Pump, **fields: str) -> tuple[str, dict[str, str]]:
    """50 contacts on an agent with 2 live calls: the first dispatch step hands 20 to the dialer, 30 wait."""
    patch_agent(client, tenant, max_concurrent_calls=2)
    batch_id, auth = create_and_run(client, tenant, CONTACTS, **fields)
    pump.step("dispatcher")  # the start, which is also the first dispatch step
    pump.step("dialer")
    return batch_id, auth


def stop(client: Client, batch_id: str, auth: dict[str, str]) -> None:
    response = client.http.post(f"/batches/{batch_id}/stop", headers=auth)
    assert response.status_code == 200, response.body


def drain_control_queue(pump: Pump) -> None:
    while pump.step("dispatcher"):
        pass


def assert_every_contact_accounted_for(client: Client, batch_id: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    """One final execution per contact in the listing, and counters that sum to valid_contacts."""
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    executions = executions_of(client, batch_id, auth)
    assert batch["valid_contacts"] == CONTACTS
    assert sorted(e["user_number"] for e in executions) == [f"+1202555{100 + i:04d}" for i in range(CONTACTS)]
    assert all(e["status"] in FINAL for e in executions), Counter(e["status"] for e in executions)
    assert batch["execution_status"] == dict(Counter(e["status"] for e in executions))
    assert sum(batch["execution_status"].values()) == CONTACTS
    return executions


def test_a_stopped_batch_accounts_for_every_contact_in_counts_listing_and_export(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a 50-contact batch stopped while most of its contacts were never dispatched
    batch_id, auth = started(client, tenant, pump)
    stop(client, batch_id, auth)
    dialled = len(scripted.dials)
    assert 0 < dialled < 20
    # When the queues drain (the live calls end, the cancel walk runs)
    pump.run(advance_seconds=2, until=lambda: not deps.batches.find(batch_id).active)  # type: ignore[union-attr]
    # Then nothing more was dialled, every contact has one final execution, the rest canceled
    assert len(scripted.dials) == dialled
    executions = assert_every_contact_accounted_for(client, batch_id, auth)
    assert Counter(e["status"] for e in executions) == {"completed": dialled, "canceled": CONTACTS - dialled}
    never = next(e for e in executions if e["user_number"] == "+12025550149")
    assert never["error_message"] == "the batch was stopped before this contact was dialled"
    assert never["context_details"]["recipient_data"] == {"customer_name": "Name49", "plan": "plan1"}
    assert json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)["status"] == "stopped"
    # And the CSV export has one row per contact
    rows = list(
        csv.DictReader(io.StringIO(client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth).body.decode()))
    )
    assert len(rows) == CONTACTS and Counter(r["status"] for r in rows)["canceled"] == CONTACTS - dialled


def test_the_background_export_of_a_stopped_batch_has_every_contact(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a stopped batch whose contacts (not its dispatched calls) exceed the in-request export size
    batch_id, auth = started(client, tenant, pump)
    stop(client, batch_id, auth)
    pump.run(advance_seconds=2, until=lambda: not deps.batches.find(batch_id).active)  # type: ignore[union-attr]
    deps.settings = deps.settings.model_copy(update={"export_sync_max_rows": 25})
    # When its CSV is asked for, and the exporter has run
    assert client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth).status_code == 202
    pump.run()
    done = client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth)
    # Then the file in S3 has a row for every contact
    assert done.status_code == 303, done.body
    rows = list(csv.DictReader(io.StringIO(requests.get(done.headers["Location"], timeout=10).text)))
    assert len(rows) == CONTACTS and len({r["contact_number"] for r in rows}) == CONTACTS


def test_cancellations_appear_by_draining_the_control_queue_alone(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a stopped batch with dials still waiting in the dial queue and contacts never dispatched
    scripted.report = False  # the two live calls stay live
    batch_id, auth = started(client, tenant, pump)
    stop(client, batch_id, auth)
    # When only the control queue is drained: no dialer, no sweeper, no clock moving
    drain_control_queue(pump)
    # Then every contact not on a live call is canceled already
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert batch["execution_status"] == {"initiated": 2, "canceled": CONTACTS - 2}
    assert len(executions_of(client, batch_id, auth)) == CONTACTS
    # And once the two live calls report, the batch is over
    for execution in deps.executions.iter_batch(batch_id):
        if execution.status == "initiated":
            event = ProviderEvent.of(execution.execution_id, "simulator", execution.provider_call_id, "completed")
            deps.queues.send(PROVIDER_EVENTS_QUEUE, event)
    pump.run()
    assert_every_contact_accounted_for(client, batch_id, auth)
    assert not deps.batches.find(batch_id).active  # type: ignore[union-attr]


def test_cancel_steps_delivered_twice_count_every_contact_once(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given every control, dial and event message is delivered twice
    pump.duplicate = lambda name, body: name in ("dispatcher", "dialer", "provider_events")
    batch_id, auth = started(client, tenant, pump)
    dialled = len(scripted.dials)
    # When the batch is stopped and the queues drain
    stop(client, batch_id, auth)
    pump.run(advance_seconds=2, until=lambda: not deps.batches.find(batch_id).active)  # type: ignore[union-attr]
    # Then each contact has exactly one execution, counted once
    assert len(scripted.dials) == dialled
    executions = assert_every_contact_accounted_for(client, batch_id, auth)
    assert len(executions) == CONTACTS
    batch = deps.batches.find(batch_id)
    assert batch is not None and batch.finished == CONTACTS
    assert batch.dispatched + batch.unreached == CONTACTS


@pytest.mark.parametrize("moment", ["before_the_step_writes", "after_the_step_wrote"])
def test_a_stop_racing_a_dispatch_step_dials_nothing_after_it_and_loses_no_contact(  # noqa: C901 - a race scripted step by step
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
    moment: str,
) -> None:
    # Given a running batch whose second dispatch step has read the batch as running
    patch_agent(client, tenant, max_concurrent_calls=2)
    batch_id, auth = create_and_run(client, tenant, CONTACTS)
    pump.step("dispatcher")
    for _ in range(5):  # calls end, room frees up for the next step
        pump.step("dialer")
        pump.step("provider_events")
    # When the stop lands in the middle of that step
    fired: list[int] = []

    def stop_once() -> None:
        if not fired:
            fired.append(len(scripted.dials))
            lifecycle.stop_batch(deps, "tenant-a", batch_id)

    if moment == "before_the_step_writes":
        read_chunk = deps.blobs.read_chunk

        def reading(*args: Any) -> Any:
            if not fired:
                stop_once()
                monkeypatch.setattr(deps.blobs, "read_chunk", read_chunk)
                drain_control_queue(pump)  # the whole cancel walk runs before this step writes anything
            return read_chunk(*args)

        monkeypatch.setattr(deps.blobs, "read_chunk", reading)
    else:
        send_many = deps.queues.send_many

        def sending(queue: Any, bodies: Any) -> None:
            if queue == DIAL_QUEUE:
                stop_once()
            send_many(queue, bodies)

        monkeypatch.setattr(deps.queues, "send_many", sending)
    for _ in range(200):
        if fired:
            break
        if not (pump.step("dispatcher") or pump.step("dialer") or pump.step("provider_events")):
            pump.advance(2)  # the next step waits (with a delay) for the dial backlog to shrink
    assert fired
    monkeypatch.undo()
    pump.run(advance_seconds=2, until=lambda: not deps.batches.find(batch_id).active)  # type: ignore[union-attr]
    # Then nothing was dialled after the stop, and every contact is accounted for exactly once
    assert len(scripted.dials) == fired[0]
    assert_every_contact_accounted_for(client, batch_id, auth)


def test_the_sweeper_resumes_a_cancel_walk_whose_message_was_lost(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a stopped batch whose cancel message was lost
    batch_id, auth = started(client, tenant, pump)
    stop(client, batch_id, auth)
    aws.sqs().purge_queue(QueueUrl=deps.queues.url(CONTROL_QUEUE))
    pump.run(advance_seconds=2, until=lambda: pump.advanced_seconds > 180)
    assert deps.batches.find(batch_id).next_pos < CONTACTS  # type: ignore[union-attr]
    # When the sweeper runs
    assert sweep(deps).resumed_cancels == 1
    pump.run()
    # Then the walk finished: every contact is accounted for, and the batch left the sweeper's index
    assert_every_contact_accounted_for(client, batch_id, auth)
    assert not deps.batches.find(batch_id).active  # type: ignore[union-attr]
    assert sweep(deps).resumed_cancels == 0


def test_a_stopped_batch_announces_stopped_with_counts_once_every_contact_is_accounted_for(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a batch with a status webhook (the events are recorded, not delivered)
    sent = spy_webhooks(deps, monkeypatch)
    batch_id, auth = started(client, tenant, pump)
    deps.batches.set_fields(batch_id, {"status_webhook": "https://hooks.example.com/status"})
    # When it is stopped and the queues drain
    stop(client, batch_id, auth)
    pump.run(advance_seconds=2, until=lambda: not deps.batches.find(batch_id).active)  # type: ignore[union-attr]
    # Then `batch.stopped` was announced (the same event however often), with counts of every contact
    stopped = [m for m in sent if m["event"] == "batch.stopped"]
    assert stopped and {m["event_id"] for m in stopped} == {stopped[0]["event_id"]}
    assert sum(stopped[0]["payload"]["execution_status"].values()) == CONTACTS
