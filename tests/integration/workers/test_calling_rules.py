"""The calling rules in the dialer, on the controllable clock: a call outside them waits as `rescheduled`
and is dialled at the first second they allow (weekly intervals, midnight, DST, zones, blocked dates,
holidays), and `bypass_call_guardrails` skips them all."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from chalice.test import Client

from chalicelib.services.container import Dependencies
from tests.support.api import post_csv
from tests.support.batches import patch_agent
from tests.support.faults import die_once
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
US, UK, AU = "+12025550100", "+442071234567", "+61412345678"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def start_batch(
    client: Client, tenant: tuple[str, str], numbers: list[str], **fields: str
) -> tuple[str, dict[str, str]]:
    key, agent_id = tenant
    rows = "".join(f"{number},Name{i}\n" for i, number in enumerate(numbers))
    response = post_csv(client, key, {"agent_id": agent_id, **fields}, f"contact_number,customer_name\n{rows}".encode())
    assert response.status_code == 201, response.body
    batch_id, auth = json.loads(response.body)["batch_id"], {"Authorization": f"Bearer {key}"}
    assert client.http.post(f"/batches/{batch_id}/run", headers=auth).status_code == 200
    return batch_id, auth


def executions(client: Client, batch_id: str, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
    listed = json.loads(client.http.get(f"/batches/{batch_id}/executions?limit=100", headers=auth).body)
    return {e["user_number"]: e for e in listed}


def dials_to(scripted: ScriptedProvider, number: str) -> list[datetime]:
    return [at for to, _, at in scripted.dials if to == number]


def dialled_at_the_first_second(pump: Pump, scripted: ScriptedProvider, number: str, opens: datetime) -> None:
    """Nothing is dialled before `opens`; moving the clock a second at a time, the call goes out at once after."""
    pump.advance((opens - datetime.now(UTC)).total_seconds() - 120)
    pump.run()
    assert dials_to(scripted, number) == []
    pump.run(until=lambda: bool(dials_to(scripted, number)), advance_seconds=1)
    [at] = dials_to(scripted, number)
    assert opens <= at < opens + timedelta(seconds=3), (at, opens)


SCENARIOS = {
    # Mon-Fri 09:00-12:00 and 13:30-20:00 in Washington; Monday 12:15 EST is lunch: 13:30 EST
    "two intervals a day": (
        {"calling_hours": {d: [["09:00", "12:00"], ["13:30", "20:00"]] for d in WEEKDAYS}},
        US,
        utc(2026, 11, 30, 17, 15),
        utc(2026, 11, 30, 18, 30),
    ),
    # Saturday 22:00 -> 02:00 only; Saturday 21:00 EST waits for 22:00 EST
    "across midnight": (
        {"calling_hours": {"sat": [["22:00", "02:00"]]}},
        US,
        utc(2026, 11, 29, 2, 0),
        utc(2026, 11, 29, 3, 0),
    ),
    # 09-17 every day; Saturday evening before the US spring-forward: Sunday 09:00 EDT is 13:00 UTC, not 14:00
    "US DST": (
        {"call_start_hour": 9, "call_end_hour": 17},
        US,
        utc(2026, 3, 8, 1, 0),
        utc(2026, 3, 8, 13, 0),
    ),
    # 08:30-20:00 in London; Saturday evening before the EU fall-back: Sunday 08:30 GMT is 08:30 UTC, not 07:30
    "EU DST": (
        {"calling_hours": {d: [["08:30", "20:00"]] for d in ("sat", "sun")}},
        UK,
        utc(2026, 10, 24, 20, 0),
        utc(2026, 10, 25, 8, 30),
    ),
    # An Australian mobile may be anywhere from Cocos (+06:30) to Lord Howe: 09:00 in the westernmost zone
    "multi-zone country": (
        {"call_start_hour": 9, "call_end_hour": 21},
        AU,
        utc(2026, 1, 12, 12),
        utc(2026, 1, 13, 2, 30),
    ),
    # 09-21 and a shutdown 12-24..12-26: Christmas Eve morning waits for 12-27 09:00 EST
    "blocked range": (
        {"call_start_hour": 9, "call_end_hour": 21, "blocked_dates": [{"start": "2026-12-24", "end": "2026-12-26"}]},
        US,
        utc(2026, 12, 24, 15),
        utc(2026, 12, 27, 14),
    ),
}


@pytest.mark.parametrize(("rules", "number", "now", "opens"), SCENARIOS.values(), ids=SCENARIOS.keys())
def test_a_call_outside_the_rules_waits_and_is_dialled_at_the_first_second_they_allow(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    rules: dict[str, Any],
    number: str,
    now: datetime,
    opens: datetime,
) -> None:
    # Given the agent's rules and a batch run at `now`, when the recipient's rules are closed
    patch_agent(client, tenant, **rules)
    with time_machine.travel(now, tick=True):
        batch_id, auth = start_batch(client, tenant, [number])
        pump.step("dispatcher")
        pump.step("dialer")
        # Then the call waits as `rescheduled` for the first second the rules allow
        [execution] = executions(client, batch_id, auth).values()
        assert (execution["status"], execution["scheduled_at"]) == ("rescheduled", iso(opens))
        # And it is dialled then: not before, and not later than the clock's next step
        dialled_at_the_first_second(pump, scripted, number, opens)


def test_a_holiday_of_the_recipients_country_and_not_of_another(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a batch that skips public holidays, run on US Thanksgiving (2026-11-26, 10:00 EST, 15:00 GMT)
    patch_agent(client, tenant, call_start_hour=9, call_end_hour=21)
    with time_machine.travel(utc(2026, 11, 26, 15), tick=True):
        batch_id, auth = start_batch(client, tenant, [US, UK], skip_public_holidays="true")
        pump.step("dispatcher")
        pump.step("dialer")
        # Then the UK number is called (not a UK holiday) and the US one waits for Friday 09:00 EST
        assert dials_to(scripted, UK) and not dials_to(scripted, US)
        found = executions(client, batch_id, auth)
        assert (found[US]["status"], found[US]["scheduled_at"]) == ("rescheduled", iso(utc(2026, 11, 27, 14)))
        # And each execution shows the calendar its number was held to
        assert (found[US]["holiday_calendar"], found[UK]["holiday_calendar"]) == ("US", "GB")
        dialled_at_the_first_second(pump, scripted, US, utc(2026, 11, 27, 14))


def test_the_batch_rules_replace_the_agents(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given an agent calling all day, and a batch that calls only on Tuesdays 10:00-11:00
    patch_agent(client, tenant, call_start_hour=0, call_end_hour=24)
    with time_machine.travel(utc(2026, 11, 30, 17), tick=True):  # Monday noon EST
        hours = json.dumps({"tue": [["10:00", "11:00"]]})
        batch_id, auth = start_batch(client, tenant, [US], calling_hours=hours)
        batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
        assert batch["calling_hours"] == {"tue": [["10:00", "11:00"]]}
        pump.step("dispatcher")
        pump.step("dialer")
        # Then the call waits for the batch's own hours: Tuesday 10:00 EST
        assert executions(client, batch_id, auth)[US]["scheduled_at"] == iso(utc(2026, 12, 1, 15))
        assert executions(client, batch_id, auth)[US]["holiday_calendar"] is None  # no holiday opt-in
        dialled_at_the_first_second(pump, scripted, US, utc(2026, 12, 1, 15))


def test_schedule_sets_the_batch_rules(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given an agent calling 09-21, and a created batch scheduled with its own blocked dates (as JSON)
    patch_agent(client, tenant, call_start_hour=9, call_end_hour=21)
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with time_machine.travel(utc(2026, 12, 24, 15), tick=True):
        response = post_csv(client, key, {"agent_id": agent_id}, f"contact_number,customer_name\n{US},Name0\n".encode())
        batch_id = json.loads(response.body)["batch_id"]
        body = {"scheduled_at": "2026-12-24T15:00:05Z", "blocked_dates": [{"start": "2026-12-24"}]}
        answer = client.http.post(f"/batches/{batch_id}/schedule", headers=auth, body=json.dumps(body))
        assert answer.status_code == 200, answer.body
        assert deps.batches.get("tenant-a", batch_id).blocked_dates == [{"start": "2026-12-24"}]
        # Then Christmas Eve is closed for it: the call waits for Christmas Day 09:00 EST
        dialled_at_the_first_second(pump, scripted, US, utc(2026, 12, 25, 14))


def test_bypass_call_guardrails_skips_every_rule(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given rules that close Thanksgiving three ways (hours, a blocked date, the holiday)
    patch_agent(
        client,
        tenant,
        calling_hours={"mon": [["09:00", "10:00"]]},
        blocked_dates=[{"start": "2026-11-26"}],
        skip_public_holidays=True,
    )
    with time_machine.travel(utc(2026, 11, 26, 15), tick=True):
        # When a batch bypasses the guardrails
        start_batch(client, tenant, [US, UK], bypass_call_guardrails="true")
        pump.run()
    # Then both numbers are dialled at once
    assert len(scripted.dials) == 2


def test_a_dialer_that_dies_after_rescheduling_a_call_still_wakes_it_when_the_rules_open(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a call outside 09-21, and a dialer that dies once right after moving it to `rescheduled`,
    # before sending the message that wakes it (found by the chaos test, seed 2)
    import chalicelib.services.dial_waits as dial_waits

    patch_agent(client, tenant, call_start_hour=9, call_end_hour=21)
    died = die_once(monkeypatch, dial_waits, "later")
    with time_machine.travel(utc(2026, 11, 30, 12), tick=True):  # 07:00 EST
        batch_id, auth = start_batch(client, tenant, [US])
        pump.step("dispatcher")
        with pytest.raises(Exception, match="All records failed"):
            pump.step("dialer")  # moves it to rescheduled, then dies: SQS delivers the message again
        assert died and executions(client, batch_id, auth)[US]["status"] == "rescheduled"
        # Then the call is still dialled when the rules open (09:00 EST), once
        pump.run(until=lambda: bool(dials_to(scripted, US)), advance_seconds=60)
        [at] = dials_to(scripted, US)
        assert utc(2026, 11, 30, 14) <= at < utc(2026, 11, 30, 14, 2)


def test_a_dialer_that_dies_after_rescheduling_a_call_wakes_it_when_redelivered_after_the_rules_opened(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a call two minutes before its rules open (09:00 EST), and a dialer that dies once right after moving it
    # to `rescheduled`, before creating its wake-up; SQS delivers the message again only after its visibility
    # timeout (180 s), once the rules are open (chaos seeds 141, 868, 1002, ...: the call waited forever)
    import chalicelib.services.dial_waits as dial_waits

    patch_agent(client, tenant, call_start_hour=9, call_end_hour=21)
    died = die_once(monkeypatch, dial_waits, "later")
    with time_machine.travel(utc(2026, 11, 30, 13, 58), tick=False):  # 08:58 EST
        pump.freeze()
        batch_id, auth = start_batch(client, tenant, [US])
        pump.step("dispatcher")
        with pytest.raises(Exception, match="All records failed"):
            pump.step("dialer")
        assert died and executions(client, batch_id, auth)[US]["status"] == "rescheduled"
        # When the message comes back at 09:01 EST, the rules open
        pump.advance(181)
        pump.run(until=lambda: bool(dials_to(scripted, US)), advance_seconds=60)
    # Then the redelivery is the call's wake-up: dialled once, at once
    [at] = dials_to(scripted, US)
    assert utc(2026, 11, 30, 14, 1) <= at < utc(2026, 11, 30, 14, 2)
    assert executions(client, batch_id, auth)[US]["status"] != "rescheduled"
