"""The Suppressions tab: add a number (the API's error beside the field), see it listed, remove it."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from playwright.sync_api import expect

from .conftest import assert_no_horizontal_scroll, close_page, new_page, screenshot
from .dashboard import confirm, sign_in


def test_a_number_is_added_listed_and_removed(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    sign_in(page, dashboard_url, stack.api_key)
    page.get_by_role("link", name="Suppressions", exact=True).click()
    form = page.get_by_test_id("suppression-form")
    # A number that is not one: the API's message, next to the field
    form.get_by_label("Number", exact=True).fill("12")
    form.get_by_role("button", name="Add to the list").click()
    expect(page.get_by_test_id("suppression-form-error")).to_be_visible()
    # A real one, with a reason: listed, with the key's label
    number = f"+1202555{uuid.uuid4().int % 9000 + 1000:04d}"
    form.get_by_label("Number", exact=True).fill(number)
    form.get_by_label("Reason", exact=True).fill("asked by phone")
    form.get_by_role("button", name="Add to the list").click()
    row = page.get_by_test_id("suppression-row").filter(has_text=number)
    expect(row).to_contain_text("asked by phone")
    assert http.get(f"{stack.api_url}/suppressions/{number.replace('+', '%2B')}", timeout=10).status_code == 200
    screenshot(page, "suppressions")
    # Removed, after confirming
    row.get_by_role("button", name="Remove").click()
    confirm(page)
    expect(page.get_by_test_id("suppression-row").filter(has_text=number)).to_have_count(0)
    assert http.get(f"{stack.api_url}/suppressions/{number.replace('+', '%2B')}", timeout=10).status_code == 404


def test_the_tab_fits_a_phone(browser: Any, stack: Any, http: requests.Session, dashboard_url: str) -> None:
    http.post(f"{stack.api_url}/suppressions", json={"number": "+12025550188", "reason": "r"}, timeout=10)
    phone = new_page(browser, width=390)
    try:
        sign_in(phone, dashboard_url, stack.api_key)
        phone.goto(f"{dashboard_url}#/suppressions")
        expect(phone.get_by_test_id("suppression-row").first).to_be_visible()
        assert_no_horizontal_scroll(phone, "suppressions")
    finally:
        close_page(phone)
