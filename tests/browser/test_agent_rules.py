"""The calling rules in the dashboard: weekly hours, blocked dates and the holiday opt-in from the agent form
(an edit that leaves them alone never turns weekly hours back into the 09-21 shorthand) and, for one batch,
from the upload dialog."""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests
from playwright.sync_api import expect

from .conftest import ROOT
from .dashboard import action, batch_id_of_row_named, batch_row, choose_file, open_agent, set_field, sign_in

WEEKLY = {"mon": [["09:00", "12:00"], ["13:00", "20:00"]], "sat": [["22:00", "02:00"]]}
BLOCKED = [{"start": "2026-12-24", "end": "2026-12-26"}]
SAMPLE = ROOT / "samples" / "contacts.csv"


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


def test_a_batchs_own_calling_rules_from_the_upload_dialog(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    # Given the upload dialog with the sample file, and the batch's own hours, blocked dates and holidays
    sign_in(page, dashboard_url, stack.api_key)
    open_agent(page, dashboard_url, stack.agent_id)
    dialog = choose_file(page, SAMPLE)
    name = f"Rules {uuid.uuid4().hex[:6]}"
    dialog.get_by_label("Batch name", exact=True).fill(name)
    set_field(dialog.get_by_label("Batch calling hours (JSON)", exact=True), json.dumps(WEEKLY))
    set_field(dialog.get_by_label("Batch blocked dates (JSON)", exact=True), json.dumps(BLOCKED))
    set_field(dialog.get_by_label("Public holidays", exact=True), "true")
    dialog.get_by_role("radio", name="Schedule", exact=True).check()
    action(dialog, "+1 h").click()
    # When the batch is uploaded
    action(dialog, "Upload this batch").click()
    expect(dialog).to_be_hidden()
    # Then the API has the batch's own rules as typed
    batch_id = batch_id_of_row_named(page, name)
    batch = http.get(f"{stack.api_url}/batches/{batch_id}", timeout=30).json()
    assert (batch["calling_hours"], batch["blocked_dates"], batch["skip_public_holidays"]) == (WEEKLY, BLOCKED, True)
    # And the batch's page states them
    batch_row(page, batch_id).get_by_role("link", name=name).click()
    stated = "weekly hours: mon sat; blocked 2026-12-24..2026-12-26; skips public holidays"
    expect(page.get_by_text(stated)).to_be_visible()
