"""GET /executions/{id}/log: a call's timeline, every attempt of the contact, from what its writes left behind."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from chalicelib.services.container import Dependencies
from chalicelib.services.webhooks import current_secret
from chalicelib.workers.sweeper import sweep
from tests.support.batches import create_and_run, make_batch
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider
from tests.support.webhooks import Receiver, Reply, hooks, receiver

__all__ = ["hooks", "receiver"]  # fixtures

RETRY_ONCE = {"enabled": True, "max_retries": 1, "retry_intervals_minutes": [1], "retry_on_statuses": ["no-answer"]}


def log_of(client: Client, key: str, execution_id: str) -> tuple[int, Any, str]:
    response = client.http.get(f"/executions/{execution_id}/log", headers={"Authorization": f"Bearer {key}"})
    return response.status_code, json.loads(response.body), response.body.decode()


def steps(entries: list[dict[str, Any]], attempt: int) -> list[tuple[str, str, str | None]]:
    return [(e["type"], e["component"], e["status"]) for e in entries if e["attempt"] == attempt]


def test_the_log_of_a_retried_call_shows_both_attempts_in_order(
    client: Client,
    tenant: tuple[str, str],
    hooks: Dependencies,
    pump: Pump,
    receiver: Receiver,
    scripted: ScriptedProvider,
) -> None:
    # Given a call that is not answered, retried a minute later and answered, and a webhook receiver that
    # fails each event's first delivery
    key, agent_id = tenant
    scripted.script = {(0, 1): "no-answer"}
    receiver.secrets = [str(current_secret(hooks, "tenant-a").webhook_secret)]
    receiver.script = lambda request: Reply(500 if request.nth == 1 else 200)
    batch_id, _ = create_and_run(
        client, tenant, 1, webhook_url=f"{receiver.url}/calls", retry_config=json.dumps(RETRY_ONCE)
    )
    pump.run(until=lambda: hooks.batches.find(batch_id).status == "completed", advance_seconds=20)  # type: ignore[union-attr]
    pump.run(until=lambda: len(receiver.received) >= 6, advance_seconds=5)  # 3 events, 2 attempts each
    pump.run()
    first, second = sorted(hooks.executions.iter_batch(batch_id), key=lambda e: e.attempt)
    # When the log is asked for by either attempt's id
    status, log, raw = log_of(client, key, second.execution_id)
    assert status == 200 and log["status"] == "success"
    assert log_of(client, key, first.execution_id)[1] == log
    entries = log["data"]
    # Then attempt 1's story comes first, then attempt 2's, each in time order
    assert [e["attempt"] for e in entries] == sorted(e["attempt"] for e in entries)
    for n in (1, 2):
        times = [e["created_at"] for e in entries if e["attempt"] == n]
        assert times == sorted(times)
    # And each status change names who made it: dispatch queued it, the dialer claimed and placed it,
    # the provider's events ended it; the retry was created where the first attempt ended
    calls = [s for s in steps(entries, 1) if s[0] != "webhook"]
    assert calls == [
        ("status", "dispatcher", "queued"),
        ("status", "dialer", "initiated"),
        ("request", "dialer", None),
        ("response", "dialer", None),
        ("status", "provider_event", "no-answer"),
    ]
    assert [s for s in steps(entries, 2) if s[0] != "webhook"] == [
        ("status", "provider_event", "queued"),
        ("status", "dialer", "initiated"),
        ("request", "dialer", None),
        ("response", "dialer", None),
        ("status", "provider_event", "completed"),
    ]
    request = next(e for e in entries if e["type"] == "request")
    assert request["provider"] == "simulator" and "+******0100" in request["data"]
    answer = next(e for e in entries if e["type"] == "response")
    assert answer["data"] == f"accepted: call id c-{first.execution_id}"
    # And every webhook attempt of the call is there: a failed and a delivered one per event
    sent = [(e["attempt"], e["details"]["event"], e["details"]["outcome"]) for e in entries if e["type"] == "webhook"]
    assert [h for h in sent if h[0] == 1] == [(1, "call.ended", "retrying"), (1, "call.ended", "delivered")]
    for event in ("call.retry_scheduled", "call.ended"):
        assert [h[2] for h in sent if h[:2] == (2, event)] == ["retrying", "delivered"]
    # And the agent's history lists both attempts, the retry first (newest first)
    history = client.http.get(f"/v2/agent/{agent_id}/executions", headers={"Authorization": f"Bearer {key}"})
    assert [e["id"] for e in json.loads(history.body)["data"]] == [second.execution_id, first.execution_id]
    # And no full phone number appears anywhere in it
    assert "+12025550100" not in raw and "12025550100" not in raw and "+12025550147" not in raw


def test_a_call_the_provider_never_reported_ends_by_the_sweeper(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, scripted: ScriptedProvider
) -> None:
    # Given a call placed whose provider never reports back
    key, _ = tenant
    scripted.report = False
    batch_id, _ = create_and_run(client, tenant, 1)
    pump.step("dispatcher")
    pump.step("dialer")
    # When the sweeper gives up on it
    pump.advance(deps.settings.call_report_timeout_seconds + 60)
    sweep(deps)
    [execution] = deps.executions.iter_batch(batch_id)
    # Then its log ends with the sweeper's `error`, with the reason
    last = log_of(client, key, execution.execution_id)[1]["data"][-1]
    assert (last["type"], last["component"], last["previous_status"], last["status"]) == (
        "status",
        "sweeper",
        "initiated",
        "error",
    )
    assert last["details"]["error_message"] == execution.error_message


def test_another_tenants_call_log_is_not_found(
    client: Client, tenant: tuple[str, str], other_tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    batch_id, _ = make_batch(client, other_tenant, 1)
    client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {other_tenant[0]}"})
    pump.step("dispatcher")
    [execution] = deps.executions.iter_batch(batch_id)
    assert log_of(client, other_tenant[0], execution.execution_id)[0] == 200
    status, body, _ = log_of(client, tenant[0], execution.execution_id)
    assert status == 404 and body["code"] == "execution_not_found"
