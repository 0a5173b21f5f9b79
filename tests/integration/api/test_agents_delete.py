"""DELETE /agents/{id}: refused while one of the agent's batches may still dial."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from chalice.test import Client

from chalicelib.services.container import Dependencies
from tests.support.api import post_csv
from tests.support.batches import contacts_csv, create_and_run
from tests.support.pump import Pump


def test_an_agent_with_a_running_batch_cannot_be_deleted_until_the_batch_completes(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given an agent whose batch is running
    _, agent_id = tenant
    batch_id, auth = create_and_run(client, tenant, 30)
    pump.step("dispatcher")
    assert deps.batches.find(batch_id).status == "running"  # type: ignore[union-attr]
    # When the agent is deleted
    response = client.http.delete(f"/agents/{agent_id}", headers=auth)
    # Then it is a 409 naming the batch and what to do, and the agent still exists
    assert response.status_code == 409, response.body
    body = json.loads(response.body)
    assert body["code"] == "agent_in_use"
    assert batch_id in body["message"] and "stop" in body["message"]
    assert body["details"] == [{"batch_id": batch_id, "status": "running"}]
    assert client.http.get(f"/agents/{agent_id}", headers=auth).status_code == 200
    # And the batch completes normally, every contact called
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=30)  # type: ignore[union-attr]
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert sum(batch["execution_status"].values()) == 30
    # And once it has, the agent can be deleted
    assert client.http.delete(f"/agents/{agent_id}", headers=auth).status_code == 200
    assert client.http.get(f"/agents/{agent_id}", headers=auth).status_code == 404


def test_a_batch_not_yet_started_holds_its_agent_until_it_is_deleted(client: Client, tenant: tuple[str, str]) -> None:
    # Given an agent with a created batch and a scheduled one
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    created = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(2)).body)["batch_id"]
    scheduled = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(2)).body)["batch_id"]
    start = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    response = client.http.post(
        f"/batches/{scheduled}/schedule",
        body=json.dumps({"scheduled_at": start}),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.body
    # Then deleting the agent is refused, naming both batches
    response = client.http.delete(f"/agents/{agent_id}", headers=auth)
    assert response.status_code == 409
    details = json.loads(response.body)["details"]
    assert {d["batch_id"] for d in details} == {created, scheduled}
    # When both batches are stopped or deleted, the agent can be deleted
    assert client.http.post(f"/batches/{scheduled}/stop", headers=auth).status_code == 200
    assert client.http.delete(f"/batches/{created}", headers=auth).status_code == 200
    assert client.http.delete(f"/agents/{agent_id}", headers=auth).status_code == 200


def test_an_agent_without_batches_is_deleted_and_an_unknown_one_is_404(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    assert client.http.delete(f"/agents/{agent_id}", headers=auth).status_code == 200
    missing = client.http.delete(f"/agents/{agent_id}", headers=auth)
    assert missing.status_code == 404 and json.loads(missing.body)["code"] == "agent_not_found"
