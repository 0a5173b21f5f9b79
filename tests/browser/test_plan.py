"""The plan in the batch detail: worked out on demand before any call, with its CSV download."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import expect

from .conftest import screenshot
from .dashboard import sign_in
from .test_controls import create_batch


def test_the_plan_of_a_created_batch(page: Any, stack: Any, http: requests.Session, dashboard_url: str) -> None:
    api = stack.api_url
    # Given an agent that calls at any hour and a created batch of the sample's 7 valid contacts
    agent = http.post(
        f"{api}/agents",
        json={"name": f"Plan agent {uuid.uuid4().hex[:6]}", "call_start_hour": 0, "call_end_hour": 24},
        timeout=30,
    )
    assert agent.status_code in (200, 201), agent.text
    batch_id = create_batch(http, api, agent.json()["agent_id"])
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
