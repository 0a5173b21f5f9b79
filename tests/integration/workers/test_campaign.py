"""A batch runs end to end on moto: dispatch, exactly-once dialing, outcomes, completion."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.records import Agent
from chalicelib.providers.base import CallRequest
from chalicelib.services.container import Dependencies
from tests.support.api import post_csv
from tests.support.batches import contacts_csv, create_and_run, executions_of, is_completed
from tests.support.invariants import check_campaign
from tests.support.pump import Pump


class CountingProvider:
    """Wraps the simulator and counts placements per execution; can crash once after the provider accepted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dials: Counter[str] = Counter()
        self.crash_after_accept: set[str] = set()

    def idempotent(self, agent: Agent) -> bool:
        return False  # counting requests, it stands for a provider without idempotency keys

    def place_call(self, request: CallRequest, agent: Agent) -> str:
        self.dials[request.execution_id] += 1
        call_id = self.inner.place_call(request, agent)
        if request.execution_id in self.crash_after_accept:
            self.crash_after_accept.discard(request.execution_id)
            raise RuntimeError("dialer died after the provider accepted the call")
        return call_id


@pytest.fixture
def provider(deps: Dependencies) -> CountingProvider:
    counting = CountingProvider(deps.providers["simulator"])
    deps.providers["simulator"] = counting  # type: ignore[assignment]
    return counting


def svc_of(pump: Pump) -> Dependencies:
    return pump.deps


def assert_invariants(pump: Pump, batch_id: str, provider: CountingProvider) -> None:
    """Issue 18's whole-campaign invariants, once every queue has drained."""
    pump.run()
    assert check_campaign(pump.deps, [batch_id], provider.dials) == []


def batch_of(client: Client, batch_id: str, auth: dict[str, str]) -> dict[str, Any]:
    return json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)


def test_batch_runs_to_completion_with_one_final_execution_per_contact(
    client: Client, tenant: tuple[str, str], pump: Pump, provider: CountingProvider
) -> None:
    # Given a batch of 30 valid contacts, run now
    batch_id, auth = create_and_run(client, tenant, 30)
    # When every queue has been drained
    pump.run(until=lambda: is_completed(svc_of(pump), batch_id), advance_seconds=2)
    # Then the batch completed, every contact was dialled exactly once and reached a final status
    batch = batch_of(client, batch_id, auth)
    assert batch["status"] == "completed"
    executions = executions_of(client, batch_id, auth)
    assert len(executions) == 30
    assert len({e["user_number"] for e in executions}) == 30
    assert set(provider.dials.values()) == {1} and len(provider.dials) == 30
    final = {"completed", "no-answer", "busy", "failed"}
    assert all(e["status"] in final for e in executions)
    # And the counters match the executions, recipient data is echoed
    assert batch["execution_status"] == dict(Counter(e["status"] for e in executions))
    first = next(e for e in executions if e["user_number"] == "+12025550100")
    assert first["context_details"]["recipient_data"] == {"customer_name": "Name0", "plan": "plan0"}
    assert first["telephony_data"]["provider"] == "simulator" and first["telephony_data"]["provider_call_id"]
    completed = [e for e in executions if e["status"] == "completed"]
    assert completed and all(e["conversation_duration"] > 0 for e in completed)
    assert any("Name" in (e["transcript"] or "") for e in completed)
    # And single executions and the CSV export read the same data
    one = json.loads(client.http.get(f"/executions/{first['id']}", headers=auth).body)
    assert one == first
    csv_text = client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth).body.decode()
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("contact_number,customer_name,plan,status")
    assert len(lines) == 31 and lines[1].startswith("'+1202555")
    assert_invariants(pump, batch_id, provider)


def test_every_dial_message_delivered_twice_still_dials_once(
    client: Client, tenant: tuple[str, str], pump: Pump, provider: CountingProvider
) -> None:
    pump.duplicate = lambda name, body: name in ("dialer", "provider_events", "dispatcher")
    batch_id, auth = create_and_run(client, tenant, 25)
    pump.run(until=lambda: is_completed(svc_of(pump), batch_id), advance_seconds=2)
    assert batch_of(client, batch_id, auth)["status"] == "completed"
    assert len(provider.dials) == 25 and set(provider.dials.values()) == {1}
    batch = batch_of(client, batch_id, auth)
    assert sum(batch["execution_status"].values()) == 25
    assert_invariants(pump, batch_id, provider)


def test_crash_after_provider_accepted_never_redials(
    client: Client, tenant: tuple[str, str], pump: Pump, provider: CountingProvider, deps: Dependencies
) -> None:
    from chalicelib.domain.executions import execution_id

    # Given the dialer dies right after the provider accepted three of the calls
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(10)).body)["batch_id"]
    provider.crash_after_accept = {execution_id(batch_id, i, 1) for i in (0, 4, 9)}
    client.http.post(f"/batches/{batch_id}/run", headers=auth)
    # When the failed messages are redelivered until the queues drain
    pump.run(until=lambda: is_completed(svc_of(pump), batch_id), advance_seconds=2)
    # Then no contact was dialled twice, and every contact reached a final status through the provider's events
    assert len(provider.dials) == 10 and set(provider.dials.values()) == {1}
    assert batch_of(client, batch_id, auth)["status"] == "completed"
    executions = executions_of(client, batch_id, auth)
    assert all(e["status"] in {"completed", "no-answer", "busy", "failed"} for e in executions)
    assert_invariants(pump, batch_id, provider)


def test_stop_means_no_dial_after_it_returns(
    client: Client, tenant: tuple[str, str], pump: Pump, provider: CountingProvider
) -> None:
    # Given a running batch whose first dials are done
    batch_id, auth = create_and_run(client, tenant, 40)
    pump.step("dispatcher")
    pump.step("dispatcher")
    pump.step("dialer")
    dialled_before_stop = sum(provider.dials.values())
    assert dialled_before_stop > 0
    # When it is stopped
    response = client.http.post(f"/batches/{batch_id}/stop", headers=auth)
    assert json.loads(response.body) == {"message": "success", "state": "stopped"}
    pump.run()
    # Then nothing more was dialled, the rest are canceled, and stop again is a 409
    assert sum(provider.dials.values()) == dialled_before_stop
    executions = executions_of(client, batch_id, auth)
    statuses = Counter(e["status"] for e in executions)
    assert statuses["canceled"] == len(executions) - dialled_before_stop
    batch = batch_of(client, batch_id, auth)
    assert batch["status"] == "stopped"
    again = client.http.post(f"/batches/{batch_id}/stop", headers=auth)
    assert again.status_code == 409
    assert_invariants(pump, batch_id, provider)


def test_pause_holds_dials_and_resume_finishes(
    client: Client, tenant: tuple[str, str], pump: Pump, provider: CountingProvider
) -> None:
    batch_id, auth = create_and_run(client, tenant, 15)
    pump.step("dispatcher")
    pump.step("dispatcher")
    assert client.http.post(f"/batches/{batch_id}/pause", headers=auth).status_code == 200
    for _ in range(5):
        pump.step("dialer")
    assert sum(provider.dials.values()) == 0
    assert batch_of(client, batch_id, auth)["status"] == "paused"
    assert client.http.post(f"/batches/{batch_id}/resume", headers=auth).status_code == 200
    pump.run(until=lambda: batch_of(client, batch_id, auth)["status"] == "completed", advance_seconds=5)
    assert len(provider.dials) == 15 and set(provider.dials.values()) == {1}
    assert_invariants(pump, batch_id, provider)
