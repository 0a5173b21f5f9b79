"""The plan (`GET /batches/{id}/plan`, `plan.csv`) against what a campaign then does, on the controllable clock."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import time_machine
from chalice.test import Client

from chalicelib.providers.simulator import SimulatorProvider
from chalicelib.services.container import Dependencies
from tests.support.api import post_csv
from tests.support.batches import patch_agent
from tests.support.pump import Pump

MONDAY_1PM_UTC = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # London 13:00 (open), Washington 08:00 (closed)


def mixed_csv(london: int, washington: int) -> bytes:
    rows = [f"+44207946{i:04d},L{i}" for i in range(london)]
    rows += [f"+1202555{100 + i:04d},W{i}" for i in range(washington)]
    return ("contact_number,customer_name\n" + "\n".join(rows) + "\n").encode()


def create(client: Client, tenant: tuple[str, str], body: bytes, **fields: str) -> tuple[str, dict[str, str]]:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id, **fields}, body)
    assert response.status_code == 201, response.body
    return json.loads(response.body)["batch_id"], {"Authorization": f"Bearer {key}"}


def get_plan(client: Client, batch_id: str, auth: dict[str, str], query: str = "") -> dict[str, Any]:
    response = client.http.get(f"/batches/{batch_id}/plan{query}", headers=auth)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def plan_rows(client: Client, batch_id: str, auth: dict[str, str]) -> list[dict[str, str]]:
    response = client.http.get(f"/batches/{batch_id}/plan.csv", headers=auth)
    assert response.status_code == 200, response.body
    return list(csv.DictReader(io.StringIO(response.body.decode())))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_plan_agrees_with_the_campaign_it_describes(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given calls of exactly 15 minutes, at most two live at once, calling hours 09-17 on the recipient's clock
    deps.providers["simulator"] = SimulatorProvider(deps.queues, seed=7, speed=1)
    patch_agent(
        client, tenant, call_start_hour=9, call_end_hour=17, max_concurrent_calls=2,
        provider_config={"fixed_talk_seconds": 900},
    )  # fmt: skip
    with time_machine.travel(MONDAY_1PM_UTC, tick=True):
        # And a batch of 4 London numbers (open now) and 6 Washington ones (open at 14:00 UTC)
        batch_id, auth = create(client, tenant, mixed_csv(4, 6))
        # When the plan is asked for, before any call
        plan = get_plan(client, batch_id, auth, "?answer_rate=1&mean_call_seconds=900&ring_seconds=0")
        rows = plan_rows(client, batch_id, auth)
        # Then it places no call and counts 4 callable now, 6 waiting for their hours
        assert deps.executions.iter_batch(batch_id) is not None and not list(deps.executions.iter_batch(batch_id))
        assert plan["contacts"]["callable_at_start"] == 4
        assert plan["contacts"]["waiting"]["outside_hours"] == 6
        assert {r["reason"] for r in rows if r["contact_number"].startswith("'+44")} == {"now"}
        assert {r["first_dial_at"] for r in rows if r["reason"] == "outside_hours"} == {"2026-11-30T14:00:00.000Z"}
        start = at(plan["start_at"])
        # When the batch runs to the end on the controllable clock
        assert client.http.post(f"/batches/{batch_id}/run", headers=auth).status_code == 200
        pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=30)  # type: ignore[union-attr]
    # Then exactly the contacts the plan said would wait were rescheduled, each to its planned first dial
    executions = {e.user_number: e for e in deps.executions.iter_batch(batch_id)}
    assert len(executions) == 10
    planned_wait = {r["contact_number"].lstrip("'"): r["first_dial_at"] for r in rows if r["reason"] != "now"}
    actual_wait = {n: e.scheduled_at for n, e in executions.items() if e.scheduled_at}
    assert actual_wait == planned_wait
    # And the projected completion is within 10% of the actual one (measured from the start)
    batch = deps.batches.find(batch_id)
    assert batch is not None
    assert batch.completed_at is not None
    actual = (at(batch.completed_at) - start).total_seconds()
    projected = (at(plan["projection"]["completion_at"]) - start).total_seconds()
    assert abs(projected - actual) <= 0.10 * actual, (projected, actual)
    assert plan["projection"]["peak_live_calls"] == 2
    assert plan["projection"]["attempts"] == 10


def test_the_plan_answers_in_its_documented_shape_and_refuses_what_it_cannot_plan(
    client: Client, tenant: tuple[str, str], other_tenant: tuple[str, str], deps: Dependencies
) -> None:
    from chalicelib.api.bodies import BatchPlan

    # Given a created batch
    batch_id, auth = create(client, tenant, mixed_csv(2, 1))
    # Then its plan has the documented shape and says where each assumption came from
    plan = get_plan(client, batch_id, auth, "?answer_rate=0.5")
    BatchPlan.model_validate(plan)
    assert plan["assumptions"]["sources"]["answer_rate"] == "query"
    assert plan["assumptions"]["sources"]["mean_call_seconds"] == "default"
    assert plan["assumptions"]["sources"]["price_per_minute"] == "default"
    # And an assumption out of range is a 400 naming it
    response = client.http.get(f"/batches/{batch_id}/plan?answer_rate=2", headers=auth)
    assert response.status_code == 400
    assert json.loads(response.body)["details"][0]["field"] == "answer_rate"
    # And another tenant's batch is not found
    other = {"Authorization": f"Bearer {other_tenant[0]}"}
    for path in ("plan", "plan.csv"):
        assert client.http.get(f"/batches/{batch_id}/{path}", headers=other).status_code == 404
    # And a stopped batch has no plan: 409 invalid_state
    deps.batches.set_fields(batch_id, {"status": "stopped"})
    for path in ("plan", "plan.csv"):
        response = client.http.get(f"/batches/{batch_id}/{path}", headers=auth)
        assert response.status_code == 409 and json.loads(response.body)["code"] == "invalid_state"


def test_a_scheduled_batch_is_planned_from_its_start(client: Client, tenant: tuple[str, str]) -> None:
    # Given 09-17 hours and a batch scheduled for Tuesday 15:00 UTC (Washington 10:00: open)
    patch_agent(client, tenant, call_start_hour=9, call_end_hour=17)
    with time_machine.travel(MONDAY_1PM_UTC, tick=True):
        batch_id, auth = create(client, tenant, mixed_csv(0, 3))
        response = client.http.post(
            f"/batches/{batch_id}/schedule",
            headers={**auth, "Content-Type": "application/json"},
            body=json.dumps({"scheduled_at": "2026-12-01T15:00:00Z"}),
        )
        assert response.status_code == 200, response.body
        plan = get_plan(client, batch_id, auth)
    # Then every contact is callable at that start, and the first dial is then
    assert plan["start_at"] == "2026-12-01T15:00:00.000Z"
    assert plan["contacts"]["callable_at_start"] == 3
    assert plan["projection"]["first_dial_at"] == "2026-12-01T15:00:00.000Z"
    assert plan["first_dial_histogram"]["buckets"] == [{"start": "2026-12-01T15:00:00.000Z", "contacts": 3}]


def test_unset_assumptions_come_from_the_agent_s_finished_calls_when_it_has_enough(
    client: Client, tenant: tuple[str, str], deps: Dependencies
) -> None:
    # Given an ended batch of the agent whose calls recorded 40 answered of 80, 3,600 s of talk, $6 in all
    done, auth = create(client, tenant, mixed_csv(1, 0))
    counters = {"ended_calls": 80, "answered_calls": 40, "talk_seconds": 3600, "spend": 6.0, "status": "completed"}
    deps.batches.set_fields(done, counters)
    batch_id, _ = create(client, tenant, mixed_csv(2, 0))
    # When a new batch's plan is asked for with only the answer rate given
    plan = get_plan(client, batch_id, auth, "?answer_rate=0.9")
    # Then the call length and price come from that history, the answer rate from the query
    assumed = plan["assumptions"]
    assert (assumed["mean_call_seconds"], assumed["price_per_minute"], assumed["answer_rate"]) == (90.0, 0.1, 0.9)
    assert assumed["sources"] == {
        "mean_call_seconds": "agent_history",
        "answer_rate": "query",
        "price_per_minute": "agent_history",
        "ring_seconds": "default",
    }
    # And with too few finished calls (under 50) the defaults apply
    deps.batches.set_fields(done, {"ended_calls": 49})
    assert get_plan(client, batch_id, auth)["assumptions"]["sources"]["mean_call_seconds"] == "default"
