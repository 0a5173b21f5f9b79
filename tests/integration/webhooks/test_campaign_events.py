"""A running batch announces itself: every call's end, each retry, and its lifecycle, signed, once each."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import time_machine
from chalice.test import Client

from chalicelib.services.container import Dependencies
from chalicelib.services.webhooks import current_secret
from tests.support.api import post_csv
from tests.support.batches import contacts_csv, create_and_run
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider
from tests.support.webhooks import Receiver


def test_a_batch_run_sends_call_and_lifecycle_webhooks(
    client: Client,
    tenant: tuple[str, str],
    hooks: Dependencies,
    pump: Pump,
    receiver: Receiver,
    scripted: ScriptedProvider,
) -> None:
    # Given a batch with both webhooks, whose first contact does not answer once and is retried after 1 minute
    key, agent_id = tenant
    scripted.script = {(0, 1): "no-answer", (3, 1): "busy"}
    receiver.secrets = [str(current_secret(hooks, "tenant-a").webhook_secret)]
    fields = {
        "agent_id": agent_id,
        "webhook_url": f"{receiver.url}/calls",
        "status_webhook": f"{receiver.url}/status",
        "retry_config": json.dumps(
            {
                "enabled": True,
                "max_retries": 1,
                "retry_intervals_minutes": [1],
                "retry_on_statuses": ["no-answer", "busy", "failed"],
            }
        ),
    }
    batch_id = json.loads(post_csv(client, key, fields, contacts_csv(6)).body)["batch_id"]
    # When it runs to completion, every message delivered twice
    pump.duplicate = lambda name, body: True
    client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"})
    pump.run(until=lambda: hooks.batches.find(batch_id).status == "completed", advance_seconds=20)  # type: ignore[union-attr]
    pump.run()
    # Then the status webhook saw each lifecycle step once, ending completed
    status_events = [r.payload["status"] for r in receiver.received if r.path == "/status" and r.nth == 1]
    assert status_events[:2] == ["dispatching", "in_progress"]
    assert status_events[-1] in ("completed", "completed_partial") and len(status_events) == 3
    final = next(
        r.payload for r in receiver.received if r.path == "/status" and r.payload["status"].startswith("completed")
    )
    assert final["batch_id"] == batch_id
    # And the call webhook got one `call.ended` per attempt, and one `call.retry_scheduled` per retry
    calls = [r for r in receiver.received if r.path == "/calls" and r.nth == 1]
    kinds = Counter(r.headers.get("x-batchcall-event") for r in calls)
    executions = list(hooks.executions.iter_batch(batch_id))
    retried = [e for e in executions if e.superseded_by]
    assert kinds["call.ended"] == len(executions)
    assert kinds["call.retry_scheduled"] == len(retried) == 2
    ended_ids = {r.payload["id"] for r in calls if r.headers.get("x-batchcall-event") == "call.ended"}
    assert ended_ids == {e.execution_id for e in executions}
    # And each webhook-id was delivered exactly once even though every message came twice, signed
    assert all(r.nth == 1 for r in receiver.received)
    assert all(r.verified_by == [0] for r in receiver.received)


def test_a_batch_waiting_for_calling_hours_says_so(
    client: Client,
    tenant: tuple[str, str],
    hooks: Dependencies,
    pump: Pump,
    receiver: Receiver,
    scripted: ScriptedProvider,
) -> None:
    # Given weekday calling hours and a batch run on a Saturday, with a status webhook
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    client.http.patch(
        f"/agents/{agent_id}",
        headers=auth,
        body=json.dumps({"call_start_hour": 9, "call_end_hour": 17, "call_days": ["mon", "tue"]}),
    )
    with time_machine.travel(datetime(2026, 11, 28, 17, 0, tzinfo=UTC), tick=True):
        create_and_run(client, tenant, 3, status_webhook=f"{receiver.url}/status")
        pump.run()
        # Then, every call rescheduled, the batch reports it is waiting for scheduled calls
        statuses = [r.payload["status"] for r in receiver.received if r.nth == 1]
        assert statuses == ["dispatching", "in_progress", "waiting_for_scheduled_calls"]
        assert scripted.dials == []
