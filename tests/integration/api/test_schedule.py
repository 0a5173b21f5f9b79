"""Scheduling: accepted time formats, the start mechanism by distance, replacement and removal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.resources import schedule_group_name
from chalicelib.services.container import Dependencies
from tests.support.api import CSV, post_csv
from tests.support.pump import Pump


def new_batch(client: Client, tenant: tuple[str, str]) -> tuple[str, dict[str, str]]:
    key, agent_id = tenant
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, CSV.encode()).body)["batch_id"]
    return batch_id, {"Authorization": f"Bearer {key}"}


def schedule(client: Client, batch_id: str, auth: dict[str, str], when: str, form: bool = False) -> Any:
    if form:
        return client.http.post(
            f"/batches/{batch_id}/schedule",
            body=f"scheduled_at={when.replace('+', '%2B')}",
            headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
        )
    return client.http.post(
        f"/batches/{batch_id}/schedule",
        body=json.dumps({"scheduled_at": when}),
        headers={**auth, "Content-Type": "application/json"},
    )


def schedules(deps: Dependencies) -> list[dict[str, Any]]:
    group = schedule_group_name(deps.settings)
    names = [s["Name"] for s in aws.scheduler().list_schedules(GroupName=group)["Schedules"]]
    return [dict(aws.scheduler().get_schedule(Name=n, GroupName=group)) for n in names]


@pytest.mark.parametrize("form", [False, True])
def test_z_and_offsets_are_accepted_and_not_rounded(
    client: Client, tenant: tuple[str, str], deps: Dependencies, form: bool
) -> None:
    batch_id, auth = new_batch(client, tenant)
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(second=37, microsecond=0)
    local = when.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kolkata")).isoformat()
    response = schedule(client, batch_id, auth, local, form)
    assert response.status_code == 200, response.body
    body = json.loads(response.body)
    assert body["message"] == "success" and body["state"] == "scheduled"
    assert body["scheduled_at"].startswith(when.strftime("%Y-%m-%dT%H:%M:37"))
    # A start two hours away is a one-time Scheduler schedule that deletes itself, targeting the control queue
    [sched] = schedules(deps)
    assert sched["Name"] == f"batch-{batch_id}"
    assert sched["ActionAfterCompletion"] == "DELETE"
    assert sched["ScheduleExpression"] == f"at({when.strftime('%Y-%m-%dT%H:%M:00')})"
    assert sched["Target"]["Arn"].endswith(":batchcall-test-control")
    assert json.loads(sched["Target"]["Input"])["batch_id"] == batch_id


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ("2030-01-01T10:00:00", "invalid_scheduled_at"),
        ("2001-01-01T10:00:00Z", "scheduled_at_in_past"),
        ("tomorrow", "invalid_scheduled_at"),
        ("", "invalid_scheduled_at"),
    ],
)
def test_naive_past_and_junk_times_are_400(client: Client, tenant: tuple[str, str], when: str, code: str) -> None:
    batch_id, auth = new_batch(client, tenant)
    response = schedule(client, batch_id, auth, when)
    assert response.status_code == 400
    assert json.loads(response.body)["code"] == code


FAR_FUTURE = ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59-05:00"]


def assert_refused_naming_the_field(response: Any, codes: tuple[str, ...]) -> None:
    assert response.status_code == 400, response.body
    body = json.loads(response.body)
    assert body["code"] in codes and "scheduled_at" in body["message"]
    if body["code"] == "scheduled_at_too_far":
        assert "365 days" in body["message"] and "MAX_SCHEDULE_LEAD_DAYS" in body["message"]


@pytest.mark.parametrize("when", FAR_FUTURE)
@pytest.mark.parametrize("form", [False, True])
def test_a_start_beyond_the_maximum_lead_is_400_on_schedule(
    client: Client, tenant: tuple[str, str], deps: Dependencies, when: str, form: bool
) -> None:
    # Given a created batch
    batch_id, auth = new_batch(client, tenant)
    # When it is scheduled for the year 9999 (in UTC, or with an offset that would make it the year 10000)
    response = schedule(client, batch_id, auth, when, form)
    # Then it is a 400 naming the field (and the limit), and nothing was scheduled
    assert_refused_naming_the_field(response, ("scheduled_at_too_far", "invalid_scheduled_at"))
    assert deps.batches.find(batch_id).status == "created"  # type: ignore[union-attr]
    assert schedules(deps) == []


@pytest.mark.parametrize("when", FAR_FUTURE)
@pytest.mark.parametrize("route", ["/batches", "/batches/uploads"])
def test_a_start_beyond_the_maximum_lead_is_400_on_create(
    client: Client, tenant: tuple[str, str], deps: Dependencies, when: str, route: str
) -> None:
    key, agent_id = tenant
    # When a batch is created with a start in the year 9999
    fields = {"agent_id": agent_id, "scheduled_at": when}
    if route == "/batches":
        response = post_csv(client, key, fields, CSV.encode())
    else:
        response = client.http.post(
            route,
            body=json.dumps(fields),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
    # Then it is a 400 naming the field, and no batch was made
    assert_refused_naming_the_field(response, ("scheduled_at_too_far", "invalid_scheduled_at"))
    assert deps.batches.list_for_agent("tenant-a", agent_id) == []


def test_the_maximum_lead_is_a_setting_and_a_start_within_it_is_accepted(
    client: Client, tenant: tuple[str, str], deps: Dependencies, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given MAX_SCHEDULE_LEAD_DAYS=30
    monkeypatch.setattr(deps.settings, "max_schedule_lead_days", 30)
    batch_id, auth = new_batch(client, tenant)
    # Then 31 days ahead is refused with the limit named, and 29 days ahead is accepted
    response = schedule(client, batch_id, auth, (datetime.now(UTC) + timedelta(days=31)).isoformat())
    assert response.status_code == 400
    body = json.loads(response.body)
    assert body["code"] == "scheduled_at_too_far" and "30 days" in body["message"]
    assert body["details"][0]["field"] == "scheduled_at"
    assert schedule(client, batch_id, auth, (datetime.now(UTC) + timedelta(days=29)).isoformat()).status_code == 200


def test_rescheduling_replaces_the_schedule_and_stop_removes_it(
    client: Client, tenant: tuple[str, str], deps: Dependencies
) -> None:
    batch_id, auth = new_batch(client, tenant)
    first = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    second = (datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0)
    schedule(client, batch_id, auth, first)
    schedule(client, batch_id, auth, second.isoformat())
    [sched] = schedules(deps)
    assert sched["ScheduleExpression"] == f"at({second.strftime('%Y-%m-%dT%H:%M:00')})"
    assert client.http.post(f"/batches/{batch_id}/stop", headers=auth).status_code == 200
    assert schedules(deps) == []
    assert schedule(client, batch_id, auth, second.isoformat()).status_code == 409


def test_near_start_uses_an_sqs_delay_and_the_old_start_goes_stale(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a batch scheduled 5 minutes ahead, then re-scheduled 10 minutes ahead
    batch_id, auth = new_batch(client, tenant)
    schedule(client, batch_id, auth, (datetime.now(UTC) + timedelta(minutes=5)).isoformat())
    schedule(client, batch_id, auth, (datetime.now(UTC) + timedelta(minutes=10)).isoformat())
    assert schedules(deps) == []  # under 15 minutes: no Scheduler schedule
    status = lambda: json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)["status"]  # noqa: E731
    # When the clock passes the first start only, the batch has not started (the first start message is stale)
    pump.advance(6 * 60)
    pump.run()
    assert status() == "scheduled"
    # And past the second start, it runs to completion
    pump.run(until=lambda: status() == "completed", advance_seconds=60)
    assert 9 * 60 < pump.advanced_seconds < 12 * 60


def test_a_start_fired_early_waits_for_the_exact_second(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    from chalicelib.domain.messages import ControlMessage
    from chalicelib.resources import CONTROL_QUEUE

    batch_id, auth = new_batch(client, tenant)
    start = datetime.now(UTC) + timedelta(hours=1, seconds=42)
    schedule(client, batch_id, auth, start.isoformat())
    token = str(deps.batches.find(batch_id).start_token)  # type: ignore[union-attr]
    # The Scheduler fires on the minute: simulate it delivering the message 42 s early
    pump.advance(3600)
    deps.queues.send(CONTROL_QUEUE, ControlMessage.start(batch_id, token, start.isoformat().replace("+00:00", "Z")))
    pump.step("dispatcher")
    assert deps.batches.find(batch_id).status == "scheduled"  # type: ignore[union-attr]
    pump.run(until=lambda: deps.batches.find(batch_id).status != "scheduled", advance_seconds=5)  # type: ignore[union-attr]
    assert deps.batches.find(batch_id).started_at >= start.strftime("%Y-%m-%dT%H:%M:%S")  # type: ignore[union-attr,operator]


def test_a_form_body_whose_plus_was_not_escaped_still_schedules_at_the_offset(
    client: Client, tenant: tuple[str, str]
) -> None:
    # Given `curl -d scheduled_at=...+05:30`: curl sends the "+" as is, and form decoding makes it a space
    batch_id, auth = new_batch(client, tenant)
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    local = when.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    assert "+05:30" in local
    response = client.http.post(
        f"/batches/{batch_id}/schedule",
        body=f"scheduled_at={local}",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    # Then it is scheduled at that moment, as if the "+" had been sent as %2B
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["scheduled_at"].startswith(when.strftime("%Y-%m-%dT%H:%M:%S"))
