"""The plan in the batch detail: worked out on demand before any call, with its CSV download."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import expect

from tests.support.e2e import wait_until

from .conftest import screenshot
from .dashboard import sign_in
from .test_controls import create_agent, create_batch


def test_the_plan_of_a_created_batch(page: Any, stack: Any, http: requests.Session, dashboard_url: str) -> None:
    api = stack.api_url
    # Given an agent that calls at any hour and a created batch of the sample's 7 valid contacts
    batch_id = create_batch(http, api, create_agent(http, api, "Plan agent"))
    # When the user opens the batch and asks for its plan
    sign_in(page, dashboard_url, stack.api_key)
    page.goto(f"{dashboard_url}#/batches/{batch_id}")
    page.get_by_role("button", name="Work out the plan", exact=True).click()
    # Then it shows every contact callable at the start, the projection and the histogram
    plan = page.get_by_test_id("plan")
    expect(plan.get_by_test_id("plan-counts")).to_have_text("7 callable at the start, 0 waiting.")
    expect(plan.get_by_test_id("plan-projection")).to_contain_text("Completion")
    expect(plan.get_by_test_id("plan-histogram").locator("li")).to_have_count(1)
    screenshot(page, "batch-plan")
    # And the plan CSV downloads with one row per contact
    with page.expect_download() as download:
        page.get_by_role("button", name="Download plan CSV", exact=True).click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 7 and {r["reason"] for r in rows} == {"now"}
    # And nothing was called
    assert http.get(f"{api}/batches/{batch_id}", timeout=30).json()["status"] == "created"


def _completed(http: requests.Session, api: str, batch_id: str) -> None:
    """Wait for the batch to complete (the stack's simulator is fast: seconds)."""

    def done() -> bool:
        return bool(http.get(f"{api}/batches/{batch_id}", timeout=30).json()["status"] == "completed")

    wait_until(done, 60, f"batch {batch_id} completed")


def _csv_batch(http: requests.Session, api: str, agent_id: str, numbers: list[str]) -> str:
    body = "contact_number\n" + "\n".join(numbers) + "\n"
    created = http.post(
        f"{api}/batches", data={"agent_id": agent_id}, files={"file": ("c.csv", body, "text/csv")}, timeout=30
    )
    assert created.status_code == 201, created.text
    return str(created.json()["batch_id"])


def test_the_plan_shows_who_waits_for_the_do_not_call_list_and_the_contact_limit(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    api = stack.api_url
    # Given an agent calling at any hour, at most 1 attempt per number per day
    agent_id = create_agent(http, api, "Limits", max_attempts_per_number=1, attempt_window_days=1)
    # And a number this agent called a moment ago, in an earlier batch
    tail = uuid.uuid4().int % 9000 + 1000
    called, listed = f"+4420794{tail:04d}0"[:13], f"+4411349{tail:04d}0"[:13]
    earlier = _csv_batch(http, api, agent_id, [called])
    assert http.post(f"{api}/batches/{earlier}/run", timeout=30).status_code == 200
    _completed(http, api, earlier)
    # And a new batch of it and another number, which is put on the do-not-call list after the upload
    batch_id = _csv_batch(http, api, agent_id, [called, listed])
    assert http.post(f"{api}/suppressions", json={"number": listed, "reason": "asked"}, timeout=30).status_code in (
        200,
        201,
    )
    try:
        # When the user asks for the batch's plan
        sign_in(page, dashboard_url, stack.api_key)
        page.goto(f"{dashboard_url}#/batches/{batch_id}")
        page.get_by_role("button", name="Work out the plan", exact=True).click()
        # Then it says neither can be called at the start, and why each waits
        expect(page.get_by_test_id("plan").get_by_test_id("plan-counts")).to_have_text(
            "0 callable at the start, 2 waiting (on the do-not-call list 1, over the contact limit 1)."
        )
        # And the CSV gives each its reason (the limited one: when its window frees a slot, a day on)
        with page.expect_download() as download:
            page.get_by_role("button", name="Download plan CSV", exact=True).click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        reasons = {r["contact_number"].lstrip("'"): (r["reason"], bool(r["first_dial_at"])) for r in rows}
        assert reasons == {called: ("contact_limit", True), listed: ("suppressed", False)}
    finally:
        http.delete(f"{api}/suppressions/{listed.replace('+', '%2B')}", timeout=30)
