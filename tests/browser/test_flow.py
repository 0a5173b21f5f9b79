"""The whole campaign in the dashboard, as a user walks it: sign in, create an agent, upload, run, watch,
read a transcript, download the results, delete. The API is asked only to check what the page did."""

from __future__ import annotations

import csv
import uuid
from typing import Any

import requests
from playwright.sync_api import expect

from .conftest import ROOT, screenshot
from .dashboard import (
    LONG,
    action,
    batch_id_of_row_named,
    batch_row,
    choose_file,
    confirm,
    set_field,
    sign_in,
    status_word,
)

SAMPLE = ROOT / "samples" / "contacts.csv"
CALLER = "+12025550147"


def test_a_campaign_from_sign_in_to_delete(page: Any, stack: Any, http: requests.Session, dashboard_url: str) -> None:
    api = stack.api_url
    # Given the sign-in screen, when the user signs in with the key
    sign_in(page, dashboard_url, stack.api_key)
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    # When they create an agent through the form: calls of ~10 s (at the stack's speed), any hour
    page.get_by_role("button", name="New agent", exact=True).click()
    form = page.get_by_test_id("agent-form")
    agent_name = f"Browser agent {uuid.uuid4().hex[:6]}"
    form.get_by_label("Name", exact=True).fill(agent_name)
    set_field(form.get_by_label("Provider config (JSON)", exact=True), '{"fixed_talk_seconds": 2400}')
    set_field(form.get_by_label("Caller numbers", exact=True), CALLER)
    set_field(form.get_by_label("Calling hours start", exact=True), "0")
    set_field(form.get_by_label("Calling hours end", exact=True), "24")
    action(form, "Save agent").click()
    # Then it is listed, and the API has it as typed
    row = page.get_by_test_id("agent-row").filter(has_text=agent_name)
    expect(row).to_have_count(1)
    agent_id = row.get_attribute("data-agent-id")
    agent = http.get(f"{api}/agents/{agent_id}", timeout=30).json()
    assert (agent["name"], agent["call_start_hour"], agent["call_end_hour"]) == (agent_name, 0, 24)
    assert agent["from_phone_numbers"] == [CALLER]

    # When they open its Batches tab and choose the sample CSV
    row.get_by_role("link", name=agent_name).click()
    dialog = choose_file(page, SAMPLE)
    # Then, before anything is called, the dialog shows the counts and both row errors
    for text in ("Parsed 9", "Valid 7", "Invalid 1", "Duplicates 1"):
        expect(dialog.get_by_text(text, exact=True)).to_be_visible()
    errors = dialog.get_by_test_id("row-errors").locator("tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("9")
    expect(errors.nth(0)).to_contain_text("+1202555012")
    expect(errors.nth(1)).to_contain_text("10")
    expect(errors.nth(1)).to_contain_text("+1 202-555-0123")
    screenshot(page, "upload-dialog")

    # When they name it, pick the caller number, choose Run now and confirm
    batch_name = f"Flow {uuid.uuid4().hex[:6]}"
    dialog.get_by_label("Batch name", exact=True).fill(batch_name)
    dialog.get_by_label(CALLER, exact=True).check()
    dialog.get_by_role("radio", name="Run now", exact=True).check()
    action(dialog, "Upload this batch").click()
    expect(dialog).to_be_hidden()

    # Then the batch is listed while it runs, and reaches completed by itself, with no reload
    batch_id = batch_id_of_row_named(page, batch_name)
    status = batch_row(page, batch_id).get_by_test_id("batch-status")
    expect(status).to_have_text(status_word("scheduled", "running"))
    screenshot(page, "batches-running")
    expect(status).to_have_text(status_word("completed"), timeout=LONG)
    progress = batch_row(page, batch_id).get_by_test_id("batch-progress")
    expect(progress).to_have_attribute("aria-valuenow", "7")
    expect(progress).to_have_attribute("aria-valuemax", "7")
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    batch = http.get(f"{api}/batches/{batch_id}", timeout=30).json()
    assert batch["status"] == "completed" and batch["agent_id"] == agent_id

    # When they open the batch and one answered call
    batch_row(page, batch_id).get_by_role("link", name=batch_name).click()
    expect(page.get_by_test_id("batch-status")).to_have_text(status_word("completed"))
    executions = http.get(f"{api}/batches/{batch_id}/executions", timeout=30).json()
    answered = next(e for e in executions if e.get("transcript"))
    execution_rows = page.get_by_test_id("execution-row")
    expect(execution_rows).to_have_count(len(executions))
    page.locator(f'tr[data-testid="execution-row"][data-execution-id="{answered["id"]}"]').get_by_role(
        "button", name="Open", exact=True
    ).click()
    # Then its transcript is shown
    first_line = next(line.strip() for line in answered["transcript"].splitlines() if line.strip())
    expect(page.get_by_test_id("execution-detail").get_by_test_id("transcript")).to_contain_text(first_line[:60])
    screenshot(page, "batch-detail-transcript")

    # When they download the results
    with page.expect_download() as download:
        action(page, "Download").click()
    with open(download.value.path(), newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    # Then the file has a header and one row per valid contact, input columns first, outcomes after
    header, body = rows[0], rows[1:]
    assert header[:3] == ["contact_number", "customer_name", "plan"]
    assert {"status", "execution_id", "conversation_duration"} <= set(header)
    assert len(body) == 7
    by_id = {e["id"]: e for e in executions}
    for line in (dict(zip(header, row, strict=True)) for row in body):
        execution = by_id[line["execution_id"]]
        assert line["contact_number"].lstrip("'") == execution["user_number"]  # ' guards a spreadsheet
        assert line["status"] == execution["status"]
        assert line["customer_name"] == execution["context_details"]["recipient_data"]["customer_name"]

    # When they delete the batch and confirm
    with page.expect_response(lambda r: r.request.method == "DELETE" and f"/batches/{batch_id}" in r.url) as deleted:
        action(page, "Delete").click()
        confirm(page)
    # Then the API has forgotten it
    assert deleted.value.status == 200
    assert http.get(f"{api}/batches/{batch_id}", timeout=30).status_code == 404
    # And the user is back on the agent's batches, where it is no longer listed
    expect(page.get_by_role("button", name="Upload batch", exact=True)).to_be_visible()
    expect(batch_row(page, batch_id)).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def test_a_wrong_key_stays_on_sign_in_with_the_apis_message(page: Any, stack: Any, dashboard_url: str) -> None:
    refused = requests.get(f"{stack.api_url}/agents", headers={"Authorization": "Bearer nope"}, timeout=30)
    assert refused.status_code == 401
    page.goto(dashboard_url)
    page.get_by_label("API key", exact=True).fill("nope")
    page.get_by_role("button", name="Sign in", exact=True).click()
    alert = page.get_by_test_id("signin-error")
    expect(alert).to_contain_text(refused.json()["message"])
    expect(alert).to_have_attribute("role", "alert")
    expect(page.get_by_role("button", name="New agent", exact=True)).to_have_count(0)
    assert "nope" not in page.url  # the key is never put in a URL
