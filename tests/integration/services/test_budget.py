"""A batch's budget: its calls' recorded cost reaches `max_spend`, it pauses itself, a higher budget resumes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.test import Client

from chalicelib import clock
from chalicelib.domain.records import Agent, Batch
from chalicelib.providers.simulator import SimulatorProvider
from chalicelib.services.budget import month_of
from chalicelib.services.container import Dependencies
from chalicelib.services.webhooks import current_secret
from chalicelib.store.leases import agent_key
from tests.support.api import post_csv
from tests.support.batches import contacts_csv, patch_agent
from tests.support.pump import Pump
from tests.support.webhooks import Receiver, hooks, receiver

__all__ = ["hooks", "receiver"]


class Dials:
    """Counts the calls the simulator places."""

    def __init__(self, inner: SimulatorProvider) -> None:
        self.inner, self.name, self.placed = inner, inner.name, 0

    def idempotent(self, agent: Agent) -> bool:
        return True

    def place_call(self, request: Any, agent: Agent) -> str:
        self.placed += 1
        return self.inner.place_call(request, agent)


def one_dollar_calls(client: Client, tenant: tuple[str, str], deps: Dependencies, live: int) -> Dials:
    """Every call lasts a minute at $1 a minute; `live` calls at once."""
    dials = Dials(SimulatorProvider(deps.queues, seed=7, speed=1))
    deps.providers["simulator"] = dials  # type: ignore[assignment]
    patch_agent(
        client, tenant, max_concurrent_calls=live, provider_config={"fixed_talk_seconds": 60, "cost_per_minute": 1}
    )
    return dials


def batch(client: Client, deps: Dependencies, batch_id: str) -> Batch:
    found = deps.batches.find(batch_id)
    assert found is not None
    return found


def test_the_batch_pauses_itself_when_its_calls_cost_reach_the_budget(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given $1 calls, two live at once, and a batch of 8 contacts with a budget of $2.50 and a status webhook
    dials = one_dollar_calls(client, tenant, hooks, live=2)
    receiver.secrets = [str(current_secret(hooks, "tenant-a").webhook_secret)]
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    fields = {"agent_id": agent_id, "max_spend": "2.5", "status_webhook": f"{receiver.url}/status"}
    response = post_csv(client, key, fields, contacts_csv(8))
    assert response.status_code == 201, response.body
    batch_id = json.loads(response.body)["batch_id"]
    # When it runs until it pauses, and the clock then moves on an hour
    assert client.http.post(f"/batches/{batch_id}/run", headers=auth).status_code == 200
    pump.run(until=lambda: batch(client, hooks, batch_id).status == "paused", advance_seconds=5)
    pump.run(until=lambda: pump.advanced_seconds > 3600, advance_seconds=60)
    # Then it paused at the third call's cost ($3 >= $2.50); the fourth, live at that moment, finished; no more
    shown = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert (shown["status"], shown["pause_reason"], shown["max_spend"]) == ("paused", "budget_reached", 2.5)
    assert dials.placed == 4 and shown["spend"] == 4.0
    assert shown["execution_status"].get("completed") == 4
    # And the status webhook said so, once
    paused = [r.payload for r in receiver.received if r.path == "/status" and r.payload["status"] == "paused"]
    assert [(p["pause_reason"], p["max_spend"]) for p in paused] == [("budget_reached", 2.5)]
    # When it is resumed without a higher budget, or with one not above the spend: 409, named
    response = client.http.post(f"/batches/{batch_id}/resume", headers=auth)
    assert response.status_code == 409 and json.loads(response.body)["code"] == "budget_reached"
    json_auth = {**auth, "Content-Type": "application/json"}
    response = client.http.post(f"/batches/{batch_id}/resume", headers=json_auth, body=json.dumps({"max_spend": 4}))
    assert response.status_code == 409 and json.loads(response.body)["code"] == "budget_too_low"
    assert dials.placed == 4
    # When it is resumed with a budget for everything, it calls the rest and completes
    response = client.http.post(f"/batches/{batch_id}/resume", headers=json_auth, body=json.dumps({"max_spend": 50}))
    assert response.status_code == 200, response.body
    pump.run(until=lambda: batch(client, hooks, batch_id).status == "completed", advance_seconds=5)
    done = batch(client, hooks, batch_id)
    assert dials.placed == 8 and done.spend == 8.0 and done.pause_reason is None


def test_a_budget_can_be_set_when_scheduling_and_is_validated(client: Client, tenant: tuple[str, str]) -> None:
    # Given a created batch with no budget
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(2)).body)["batch_id"]
    # When it is scheduled with a budget that is not a positive amount: 400 naming the field
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body: dict[str, Any] = {"scheduled_at": later, "max_spend": -1}
    response = client.http.post(f"/batches/{batch_id}/schedule", headers=auth, body=json.dumps(body))
    assert response.status_code == 400 and json.loads(response.body)["details"][0]["field"] == "max_spend"
    # When it is scheduled with a budget, the batch shows it
    body["max_spend"] = 12.5
    response = client.http.post(f"/batches/{batch_id}/schedule", headers=auth, body=json.dumps(body))
    assert response.status_code == 200, response.body
    shown = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert (shown["status"], shown["max_spend"], shown["spend"]) == ("scheduled", 12.5, None)


def test_no_call_is_claimed_once_the_recorded_cost_reached_the_budget(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a running batch whose recorded cost already reached its budget (the pause not yet written)
    dials = one_dollar_calls(client, tenant, deps, live=5)
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id, "max_spend": "1"}, contacts_csv(3)).body)[
        "batch_id"
    ]
    assert client.http.post(f"/batches/{batch_id}/run", headers=auth).status_code == 200
    pump.step("dispatcher")
    deps.batches.set_fields(batch_id, {"spend": 1.0})
    # When the dialer takes the calls
    pump.step("dialer")
    # Then none is claimed: the claim's transaction requires the batch within its budget
    assert dials.placed == 0
    assert batch(client, deps, batch_id).execution_status == {"queued": 3}


def test_an_agent_s_monthly_budget_pauses_its_running_batches_until_it_is_raised(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given $1 calls one at a time, an agent budget of $2 a month, and two batches of 3 contacts run together
    dials = one_dollar_calls(client, tenant, deps, live=1)
    patch_agent(client, tenant, monthly_max_spend=2)
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batches = [
        json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(3)).body)["batch_id"] for _ in "ab"
    ]
    for batch_id in batches:
        assert client.http.post(f"/batches/{batch_id}/run", headers=auth).status_code == 200
    # When they run until both pause, and the clock moves on an hour
    pump.run(until=lambda: all(batch(client, deps, b).status == "paused" for b in batches), advance_seconds=5)
    pump.run(until=lambda: pump.advanced_seconds > 3600, advance_seconds=60)
    # Then the agent's month stopped at its budget: two calls, both batches paused for the agent's budget
    assert dials.placed == 2
    assert {batch(client, deps, b).pause_reason for b in batches} == {"agent_budget_reached"}
    # And neither resumes until the agent's budget is raised
    response = client.http.post(f"/batches/{batches[0]}/resume", headers=auth)
    assert response.status_code == 409 and json.loads(response.body)["code"] == "agent_budget_reached"
    patch_agent(client, tenant, monthly_max_spend=100)
    pump.advance(60)  # the dialer's cached agent (30 s) sees the new budget
    for batch_id in batches:
        assert client.http.post(f"/batches/{batch_id}/resume", headers=auth).status_code == 200
    pump.run(until=lambda: all(batch(client, deps, b).status == "completed" for b in batches), advance_seconds=5)
    assert dials.placed == 6
    assert json.loads(client.http.get(f"/agents/{agent_id}", headers=auth).body)["monthly_max_spend"] == 100


def test_an_agent_without_a_monthly_budget_keeps_no_month_spend(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given $1 calls and an agent with no monthly budget
    one_dollar_calls(client, tenant, deps, live=2)
    key, agent_id = tenant
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(2)).body)["batch_id"]
    # When its batch runs to the end
    assert client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    pump.run(until=lambda: batch(client, deps, batch_id).status == "completed", advance_seconds=5)
    # Then the batch recorded the cost, and no month item was written (two write units saved per call)
    assert float(batch(client, deps, batch_id).spend or 0) == 2
    assert deps.leases.month_spend(agent_key("tenant-a", agent_id), month_of(clock.now())) == 0
