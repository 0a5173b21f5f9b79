"""How the CLI summarises an agent's calling hours in `agents list`."""

from __future__ import annotations

from batchcall_cli.render import hours_summary


def test_weekly_hours_name_their_days_rather_than_reading_as_any_hour() -> None:
    # Given an agent with weekly hours (the shorthand fields are then null)
    agent = {"calling_hours": {"mon": [["09:00", "12:00"]], "sat": [["22:00", "02:00"]]}, "call_start_hour": None}
    # Then the listing names the days, never "any" (which would read as calling at any hour)
    assert hours_summary(agent) == "weekly: mon sat"
    assert hours_summary({"call_start_hour": 9, "call_end_hour": 21}) == "9-21"
