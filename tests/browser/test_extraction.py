"""What the calls found out, in the dashboard: the batch detail's answers per value, and each call's extracted data."""

from __future__ import annotations

import time
from typing import Any

import requests
from playwright.sync_api import expect

from .conftest import screenshot
from .dashboard import sign_in

SCHEMA: list[dict[str, Any]] = [
    {"name": "interested", "type": "category", "values": ["yes", "no", "maybe"]},
    {"name": "appointment_booked", "type": "boolean"},
]


def test_the_batch_detail_shows_the_answers_and_each_calls_extracted_data(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    api = stack.api_url
    # Given a simulator agent that declares extraction fields, and a batch of it that ran to completion
    agent = http.post(
        f"{api}/agents",
        json={
            "name": "Answers agent",
            "provider_config": {"fixed_talk_seconds": 60},
            "extraction_schema": SCHEMA,
            "call_start_hour": 0,
            "call_end_hour": 24,
        },
        timeout=30,
    ).json()
    rows = "".join(f"+1202555{170 + i:04d},Name{i}\n" for i in range(6))
    batch_id = http.post(
        f"{api}/batches",
        data={"agent_id": agent["id"]},
        files={"file": ("c.csv", f"contact_number,customer_name\n{rows}".encode(), "text/csv")},
        timeout=30,
    ).json()["batch_id"]
    assert http.post(f"{api}/batches/{batch_id}/run", timeout=30).status_code == 200
    deadline = time.monotonic() + 60
    while http.get(f"{api}/batches/{batch_id}", timeout=30).json()["status"] != "completed":
        assert time.monotonic() < deadline, "the batch did not complete"
        time.sleep(0.5)
    breakdown = http.get(f"{api}/batches/{batch_id}", timeout=30).json()["extraction_breakdown"]
    # When the user opens the batch in the dashboard
    sign_in(page, dashboard_url, stack.api_key)
    page.goto(f"{dashboard_url}#/batches/{batch_id}")
    # Then the Answers card shows each field's count per value, as the API counts them
    card = page.get_by_test_id("extraction-breakdown")
    expect(card).to_be_visible()
    for field, values in breakdown.items():
        for value, count in values.items():
            expect(card.locator(f'[data-field="{field}"]')).to_contain_text(f"{value} {count}")
    screenshot(page, "batch-answers")
    # And opening a call shows its summary and extracted data
    page.get_by_test_id("execution-row").first.get_by_role("button", name="Open", exact=True).click()
    details = page.get_by_test_id("execution-detail")
    expect(details.get_by_test_id("extracted-data")).to_contain_text("interested")
    expect(details.get_by_test_id("summary")).not_to_have_text("No summary.")
