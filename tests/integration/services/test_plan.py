"""The plan (`GET /batches/{id}/plan`, `plan.csv`) against what a campaign then does, on the controllable clock."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import time_machine
from chalice.test import Client

from chalicelib import aws
from chalicelib.domain.contact_limits import ContactLimit
from chalicelib.domain.records import Execution
from chalicelib.domain.suppressions import SuppressionSource
from chalicelib.providers.simulator import SimulatorProvider
from chalicelib.services.container import Dependencies
from tests.support.api import post_csv
from tests.support.batches import patch_agent
from tests.support.pump import Pump

MONDAY_1PM_UTC = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # London 13:00 (open), Washington 08:00 (closed)
YESTERDAY_1330_UTC = datetime(2026, 11, 29, 13, 30, tzinfo=UTC)


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
    # Given calls of exactly 15 minutes, at most two live at once, calling hours 09-17 on the recipient's clock,
    # and at most 1 attempt per number per day
    deps.providers["simulator"] = SimulatorProvider(deps.queues, seed=7, speed=1)
    patch_agent(
        client, tenant, call_start_hour=9, call_end_hour=17, max_concurrent_calls=2,
        provider_config={"fixed_talk_seconds": 900}, max_attempts_per_number=1, attempt_window_days=1,
    )  # fmt: skip
    limited, suppressed = "+442079460005", "+442079460004"
    # And a London number an earlier batch called yesterday at 13:30 UTC (its slot frees today at 13:30)
    earlier = deps.numbers.claim_element("tenant-a", limited, YESTERDAY_1330_UTC, ContactLimit(1, 1))
    aws.dynamodb().transact_write_items(TransactItems=[earlier])  # type: ignore[list-item]
    with time_machine.travel(MONDAY_1PM_UTC, tick=True):
        # And a batch of 6 London numbers (open now) and 6 Washington ones (open at 14:00 UTC)
        batch_id, auth = create(client, tenant, mixed_csv(6, 6))
        # And one London number put on the do-not-call list after the upload
        deps.numbers.suppress("tenant-a", suppressed, SuppressionSource.API, reason="asked")
        # When the plan is asked for, before any call
        plan = get_plan(client, batch_id, auth, "?answer_rate=1&mean_call_seconds=900&ring_seconds=0")
        rows = plan_rows(client, batch_id, auth)
        # Then it places no call and counts 4 callable now, 6 waiting for their hours, 1 suppressed and 1
        # over its contact limit until 13:30
        assert deps.executions.iter_batch(batch_id) is not None and not list(deps.executions.iter_batch(batch_id))
        assert plan["contacts"]["callable_at_start"] == 4
        assert plan["contacts"]["waiting"] == {
            "outside_hours": 6, "blocked_date": 0, "holiday": 0, "suppressed": 1, "contact_limit": 1, "no_open_time": 0,
        }  # fmt: skip
        planned = {r["contact_number"].lstrip("'"): (r["reason"], r["first_dial_at"]) for r in rows}
        assert planned[suppressed] == ("suppressed", "")
        assert planned[limited] == ("contact_limit", "2026-11-30T13:30:00.000Z")
        assert {r["first_dial_at"] for r in rows if r["reason"] == "outside_hours"} == {"2026-11-30T14:00:00.000Z"}
        start = at(plan["start_at"])
        # When the batch runs to the end on the controllable clock
        assert client.http.post(f"/batches/{batch_id}/run", headers=auth).status_code == 200
        pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=30)  # type: ignore[union-attr]
    # Then each contact went the way the plan said: called at once, rescheduled to its planned first dial
    # (for its hours, or for its contact limit), or never called (suppressed)
    executions = {e.user_number: e for e in deps.executions.iter_batch(batch_id)}
    assert len(executions) == 12
    actual = {n: _what_happened(e, deps) for n, e in executions.items()}
    assert actual == {n: (reason, "" if reason == "now" else when) for n, (reason, when) in planned.items()}
    assert Counter(reason for reason, _ in actual.values()) == Counter(
        {"now": 4, "outside_hours": 6, "suppressed": 1, "contact_limit": 1}
    )
    # And the limited number was dialled once its earlier attempt left the window, not before
    assert deps.numbers.history("tenant-a", limited)[0] >= int(at("2026-11-30T13:30:00Z").timestamp())
    # And the projected completion is within 10% of the actual one (measured from the start)
    batch = deps.batches.find(batch_id)
    assert batch is not None
    assert batch.completed_at is not None
    actual_seconds = (at(batch.completed_at) - start).total_seconds()
    projected = (at(plan["projection"]["completion_at"]) - start).total_seconds()
    assert abs(projected - actual_seconds) <= 0.10 * actual_seconds, (projected, actual_seconds)
    assert plan["projection"]["peak_live_calls"] == 2
    assert plan["projection"]["attempts"] == 11
    assert plan["projection"]["never_dialled"] == 1


def _what_happened(execution: Execution, deps: Dependencies) -> tuple[str, str]:
    """(reason, first dial) as the campaign shows it: its end status, or why and until when it was rescheduled."""
    if execution.status == "suppressed":
        return "suppressed", ""
    assert execution.status == "completed", execution.status
    if not execution.scheduled_at:
        return "now", ""
    # a wait for the contact limit: the number holds a claim older than this batch's, still inside the window
    # at the first attempt (one day here); otherwise the wait was for the calling hours
    history = deps.numbers.history("tenant-a", execution.user_number)
    earlier = [t for t in history if t < int(at(execution.created_at).timestamp())]
    reason = "contact_limit" if earlier else "outside_hours"
    return reason, execution.scheduled_at


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


def test_a_batch_stored_before_contacts_carried_their_zones_gets_the_same_plan(
    client: Client, tenant: tuple[str, str], deps: Dependencies
) -> None:
    # Given 09-17 hours and a batch of London, Washington, Anchorage, toll-free and Sydney numbers
    patch_agent(client, tenant, call_start_hour=9, call_end_hour=17)
    numbers = ["+442079460001", "+12025550100", "+19075550123", "+18005550123", "+61412345678"]
    body = ("contact_number\n" + "\n".join(numbers) + "\n").encode()
    with time_machine.travel(MONDAY_1PM_UTC, tick=False):
        batch_id, auth = create(client, tenant, body)
        # Then the ingest stored each contact's zones (a toll-free number: every North American zone)
        stored = deps.blobs.read_chunk(batch_id, 0)
        zones = {c["n"]: c.get("z", "") for c in stored}
        assert zones["+442079460001"] == "Europe/London"
        assert zones["+12025550100"] == "America/New_York"
        assert "America/Anchorage" in zones["+18005550123"].split(",") and "," in zones["+18005550123"]
        plan, rows = get_plan(client, batch_id, auth), plan_rows(client, batch_id, auth)
        # When the chunk is as an older ingest wrote it, without zones
        deps.blobs.put_chunk(batch_id, 0, [{k: v for k, v in c.items() if k != "z"} for c in stored])  # type: ignore[misc]
        # Then the plan looks the zones up and answers the same, contact by contact
        assert get_plan(client, batch_id, auth) == plan
        assert plan_rows(client, batch_id, auth) == rows
    assert plan["contacts"]["callable_at_start"] == 1
