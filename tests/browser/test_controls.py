"""Each action is enabled only in the states where the API allows it, through a batch's whole life."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from playwright.sync_api import expect

from .conftest import ROOT
from .dashboard import ACTIONS, LONG, action, batch_row, confirm, expect_actions, open_agent, sign_in, status_word

SAMPLE = ROOT / "samples" / "contacts.csv"
# What the API accepts in each state (chalicelib/domain/batch_status.py); Download and Delete are
# checked where the batch is final. Anything not enabled here must be disabled.
ENABLED = {
    "created": {"Run now", "Schedule", "Delete"},
    "scheduled": {"Run now", "Schedule", "Stop", "Delete"},
    "running": {"Pause", "Stop", "Delete"},
    "paused": {"Resume", "Stop", "Delete"},
    "stopped": {"Download", "Delete"},
    "completed": {"Download", "Delete"},
}


def create_agent(http: requests.Session, api: str, name: str, **fields: Any) -> str:
    """An agent named `name` plus a random tail (the stack is shared by the package), calling at any hour: its id."""
    agent = http.post(
        f"{api}/agents",
        json={"name": f"{name} {uuid.uuid4().hex[:6]}", "call_start_hour": 0, "call_end_hour": 24, **fields},
        timeout=30,
    )
    assert agent.status_code in (200, 201), agent.text
    return str(agent.json()["agent_id"])


def create_batch(http: requests.Session, api: str, agent_id: str, **fields: str) -> str:
    """A batch of the sample's 7 valid contacts: its id."""
    with open(SAMPLE, "rb") as sample:
        created = http.post(
            f"{api}/batches",
            data={"agent_id": agent_id, **fields},
            files={"file": ("contacts.csv", sample, "text/csv")},
            timeout=30,
        )
    assert created.status_code == 201, created.text
    return str(created.json()["batch_id"])


def check(row: Any, state: str) -> None:
    expect(row.get_by_test_id("batch-status")).to_have_text(status_word(state), timeout=LONG)
    enabled = ENABLED[state]
    disabled = (
        set(ACTIONS) - enabled - ({"Download"} if state in ("created", "scheduled", "running", "paused") else set())
    )
    expect_actions(row, enabled=enabled, disabled=disabled, state=state)


def test_actions_follow_the_batch_state(page: Any, stack: Any, http: requests.Session, dashboard_url: str) -> None:
    api = stack.api_url
    # Given an agent whose calls last ~15 s each, one at a time: its batch runs long enough to act on
    slow = http.post(
        f"{api}/agents",
        json={
            "name": f"Slow agent {uuid.uuid4().hex[:6]}",
            "provider_config": {"fixed_talk_seconds": 3600},
            "max_concurrent_calls": 1,
            "call_start_hour": 0,
            "call_end_hour": 24,
        },
        timeout=30,
    )
    assert slow.status_code in (200, 201), slow.text
    agent_id = slow.json()["agent_id"]
    batch_id = create_batch(http, api, agent_id)
    sign_in(page, dashboard_url, stack.api_key)
    open_agent(page, dashboard_url, agent_id)
    row = batch_row(page, batch_id)
    # Then a created batch can be run or scheduled, not paused, resumed or stopped
    check(row, "created")
    # When the user schedules it an hour ahead: it can still be run now, rescheduled or stopped
    action(row, "Schedule").click()
    picker = page.get_by_test_id("schedule-dialog")
    before = datetime.now(UTC)
    action(picker, "+1 h").click()
    action(picker, "Confirm").click()
    expect(picker).to_be_hidden()
    check(row, "scheduled")
    scheduled_at = datetime.fromisoformat(http.get(f"{api}/batches/{batch_id}", timeout=30).json()["scheduled_at"])
    assert before + timedelta(minutes=59) <= scheduled_at <= datetime.now(UTC) + timedelta(minutes=61)
    # When the user runs it now: it can be paused or stopped, not run again
    action(row, "Run now").click()
    check(row, "running")
    # When they pause it (confirmed): only Resume and Stop remain
    action(row, "Pause").click()
    confirm(page)
    check(row, "paused")
    # When they resume it, it runs again
    action(row, "Resume").click()
    check(row, "running")
    # When they stop it (confirmed): it is final, only Download and Delete remain
    action(row, "Stop").click()
    confirm(page)
    check(row, "stopped")
    assert http.get(f"{api}/batches/{batch_id}", timeout=30).json()["status"] == "stopped"


def test_a_completed_batch_can_only_be_downloaded_or_deleted(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    api = stack.api_url
    batch_id = create_batch(http, api, stack.agent_id)
    assert http.post(f"{api}/batches/{batch_id}/run", timeout=30).status_code == 200
    sign_in(page, dashboard_url, stack.api_key)
    open_agent(page, dashboard_url, stack.agent_id)
    check(batch_row(page, batch_id), "completed")
    # The detail page applies the same rules (checked there only: the list's rows are gone)
    open_detail(page, batch_id)
    expect(page.get_by_test_id("batch-row")).to_have_count(0, timeout=LONG)
    check(page, "completed")


def open_detail(page: Any, batch_id: str) -> None:
    """Follow the row's link to the batch's page (the list patches rows in place, so a poll cannot eat the click)."""
    batch_row(page, batch_id).get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"#/batches/{batch_id}$"))
