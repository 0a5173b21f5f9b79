"""The budget in the batch detail: what was spent of `max_spend`, and the pause when it is reached."""

from __future__ import annotations

from typing import Any

import requests
from playwright.sync_api import expect

from tests.support.e2e import wait_until

from .conftest import screenshot
from .dashboard import sign_in
from .test_controls import create_agent, create_batch


def test_a_batch_that_reached_its_budget_shows_it_and_why_it_paused(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    api = stack.api_url
    # Given an agent whose calls last a minute at $1 a minute, one at a time, calling at any hour
    agent_id = create_agent(
        http, api, "Budget", max_concurrent_calls=1, provider_config={"fixed_talk_seconds": 60, "cost_per_minute": 1}
    )
    # And a batch of the sample's 7 contacts with a budget of $0.50
    batch_id = create_batch(http, api, agent_id, max_spend="0.5")
    # When it runs until its first call's cost reaches the budget
    assert http.post(f"{api}/batches/{batch_id}/run", timeout=30).status_code == 200

    def paused() -> bool:
        return bool(http.get(f"{api}/batches/{batch_id}", timeout=30).json()["status"] == "paused")

    wait_until(paused, 60, "the batch paused by its budget")
    # Then its page shows what was spent of the budget, and that the budget paused it
    sign_in(page, dashboard_url, stack.api_key)
    page.goto(f"{dashboard_url}#/batches/{batch_id}")
    budget = page.locator("dt", has_text="Budget").locator("xpath=following-sibling::dd[1]")
    expect(budget).to_have_text("1.00 spent of 0.50 — paused: budget reached (resume with a higher budget)")
    screenshot(page, "batch-budget")
