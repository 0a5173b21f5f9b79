"""Every page at a laptop's and a phone's width: no sideways scrolling, and a screenshot of each kept
under test-artifacts/browser/ (the pictures a reviewer looks at)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from .conftest import ROOT, WIDTHS, assert_no_horizontal_scroll, close_page, new_page, screenshot
from .dashboard import LONG, action, batch_row, choose_file, open_agent, sign_in, status_word

SAMPLE = ROOT / "samples" / "contacts.csv"


def look(page: Any, name: str) -> None:
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    assert_no_horizontal_scroll(page, name)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_width(
    browser: Any, stack: Any, http: requests.Session, dashboard_url: str, width: int
) -> None:
    api = stack.api_url
    # A finished batch with an answered call, to fill the list and the detail page
    with open(SAMPLE, "rb") as sample:
        created = http.post(
            f"{api}/batches",
            data={"agent_id": stack.agent_id},
            files={"file": ("contacts.csv", sample, "text/csv")},
            timeout=30,
        )
    batch_id = created.json()["batch_id"]
    assert http.post(f"{api}/batches/{batch_id}/run", timeout=30).status_code == 200
    page = new_page(browser, width=width)
    try:
        page.goto(dashboard_url)
        expect(page.get_by_label("API key", exact=True)).to_be_visible()
        look(page, "sign-in")
        sign_in(page, dashboard_url, stack.api_key)
        look(page, "agents")
        page.get_by_role("button", name="New agent", exact=True).click()
        expect(page.get_by_test_id("agent-form")).to_be_visible()
        look(page, "agent-form")
        open_agent(page, dashboard_url, stack.agent_id)
        expect(batch_row(page, batch_id).get_by_test_id("batch-status")).to_have_text(
            status_word("completed"), timeout=LONG
        )
        look(page, "batches")
        dialog = choose_file(page, SAMPLE)
        expect(dialog.get_by_text("Parsed 9", exact=True)).to_be_visible()
        look(page, "upload-dialog")
        action(dialog, "Cancel").click()
        expect(dialog).to_be_hidden()
        batch_row(page, batch_id).get_by_role("link").first.click()
        expect(page.get_by_test_id("execution-row").first).to_be_visible()
        look(page, "batch-detail")
        page.get_by_test_id("execution-row").first.get_by_role("button", name="Open", exact=True).click()
        expect(page.get_by_test_id("execution-detail")).to_be_visible()
        look(page, "execution")
        page.goto(f"{dashboard_url}#/settings")
        expect(page.get_by_test_id("webhook-secret")).to_be_visible()
        look(page, "settings")
    finally:
        close_page(page)
