"""The agent form's calling rules: weekly hours, blocked dates and the holiday opt-in, saved as typed, and
an edit that leaves them alone never turns weekly hours back into the 09-21 shorthand."""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests
from playwright.sync_api import expect

from .dashboard import action, set_field, sign_in

WEEKLY = {"mon": [["09:00", "12:00"], ["13:00", "20:00"]], "sat": [["22:00", "02:00"]]}
BLOCKED = [{"start": "2026-12-24", "end": "2026-12-26"}]


def test_weekly_hours_blocked_dates_and_holidays_from_the_form(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    # Given a new agent typed with weekly hours, blocked dates and the holiday opt-in
    sign_in(page, dashboard_url, stack.api_key)
    page.get_by_role("button", name="New agent", exact=True).click()
    form = page.get_by_test_id("agent-form")
    name = f"Rules agent {uuid.uuid4().hex[:6]}"
    form.get_by_label("Name", exact=True).fill(name)
    set_field(form.get_by_label("Weekly calling hours (JSON)", exact=True), json.dumps(WEEKLY))
    set_field(form.get_by_label("Blocked dates (JSON)", exact=True), json.dumps(BLOCKED))
    form.get_by_label("Skip the recipient's public holidays", exact=True).check()
    action(form, "Save agent").click()
    # Then the list names its weekly days, and the API has the rules as typed (the shorthand null)
    row = page.get_by_test_id("agent-row").filter(has_text=name)
    expect(row).to_contain_text("weekly: mon sat")
    agent_id = row.get_attribute("data-agent-id")
    agent = http.get(f"{stack.api_url}/agents/{agent_id}", timeout=30).json()
    assert (agent["calling_hours"], agent["blocked_dates"], agent["skip_public_holidays"]) == (WEEKLY, BLOCKED, True)
    assert agent["call_start_hour"] is None

    # When the agent is edited (its webhook only) and saved
    row.get_by_role("button", name="Edit", exact=True).click()
    form = page.get_by_test_id("agent-form")
    set_field(form.get_by_label("Webhook URL", exact=True), "https://example.com/hooks/calls")
    action(form, "Save agent").click()
    expect(form).to_be_hidden()
    # Then its weekly hours are kept, not replaced by the shorthand the form also shows
    agent = http.get(f"{stack.api_url}/agents/{agent_id}", timeout=30).json()
    assert agent["calling_hours"] == WEEKLY and agent["webhook_url"] == "https://example.com/hooks/calls"
