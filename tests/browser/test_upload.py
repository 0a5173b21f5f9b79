"""The upload dialog's choices: a scheduled start in the browser's zone and in UTC, and a refused file."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from .conftest import ROOT, close_page, new_page, screenshot
from .dashboard import action, batch_id_of_row_named, batch_row, choose_file, expect_actions, open_agent, sign_in

SAMPLE = ROOT / "samples" / "contacts.csv"
ZONE = "Asia/Kolkata"  # UTC+05:30 all year: local and UTC clocks differ by hours and half an hour
MINUTE = timedelta(seconds=60)


def clock_times(text: str) -> list[tuple[int, int]]:
    """Every HH:MM in a text, as (hour, minute) on a 24-hour clock (12-hour clocks with AM/PM read too)."""
    found = []
    for hour, minute, half in re.findall(r"\b(\d{1,2}):(\d{2})(?::\d{2})?\s*([AaPp][Mm])?", text):
        h = int(hour) % 12 + (12 if half.lower() == "pm" else 0) if half else int(hour)
        found.append((h, int(minute)))
    return found


@pytest.fixture
def kolkata_page(browser: Any) -> Any:
    opened = new_page(browser, timezone_id=ZONE)
    yield opened
    close_page(opened)


def test_quick_pick_10_min_schedules_that_instant(
    kolkata_page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    page = kolkata_page
    sign_in(page, dashboard_url, stack.api_key)
    open_agent(page, dashboard_url, stack.agent_id)
    dialog = choose_file(page, SAMPLE)
    name = f"Scheduled {uuid.uuid4().hex[:6]}"
    dialog.get_by_label("Batch name", exact=True).fill(name)
    # Given a browser in Asia/Kolkata, when the user picks Schedule and +10 min
    dialog.get_by_role("radio", name="Schedule", exact=True).check()
    before = datetime.now(UTC)
    action(dialog, "+10 min").click()
    after = datetime.now(UTC)
    ten_minutes = timedelta(minutes=10)

    def ten_minutes_ahead(instant: datetime) -> bool:
        """Within a minute of Python's now + 10 min (the page may round to its whole minute)."""
        return before + ten_minutes - MINUTE <= instant <= after + ten_minutes + MINUTE

    # Then the preview states the UTC instant ten minutes ahead
    utc_text = dialog.get_by_test_id("schedule-utc").inner_text().strip()
    found = re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", utc_text)
    assert found, f"no ISO 8601 UTC instant in the preview {utc_text!r}"
    instant = datetime.fromisoformat(found[0])
    assert ten_minutes_ahead(instant), f"UTC preview {utc_text!r}, expected about {before + ten_minutes:%H:%M}Z"
    # And the start time field and the local preview hold that instant on Kolkata's clock, zone named
    wall = instant.astimezone(ZoneInfo(ZONE))
    typed = dialog.get_by_label("Start time", exact=True).input_value()
    assert datetime.fromisoformat(typed).replace(tzinfo=ZoneInfo(ZONE)) == wall.replace(second=0), typed
    local_text = dialog.get_by_test_id("schedule-local").inner_text()
    assert (wall.hour, wall.minute) in clock_times(local_text), f"local preview {local_text!r}, not {wall:%H:%M}"
    assert re.search(r"Kolkata|Calcutta|IST|GMT\+5:30|UTC\+5:30|\+05:?30", local_text), f"no zone in {local_text!r}"
    assert wall.strftime("%H:%M") not in utc_text  # the two clocks really differ
    screenshot(page, "upload-dialog-schedule")

    # When they confirm
    action(dialog, "Upload this batch").click()
    expect(dialog).to_be_hidden()
    # Then the batch is scheduled for that instant, as the row and the API say
    batch_id = batch_id_of_row_named(page, name)
    expect(batch_row(page, batch_id).get_by_test_id("batch-status")).to_have_text(re.compile(r"^\s*scheduled\s*$"))
    batch = http.get(f"{stack.api_url}/batches/{batch_id}", timeout=30).json()
    assert batch["status"] == "scheduled"
    scheduled_at = datetime.fromisoformat(batch["scheduled_at"].replace("Z", "+00:00"))
    assert abs(scheduled_at - instant) <= timedelta(seconds=1), (
        f"scheduled_at {batch['scheduled_at']}, shown {utc_text}"
    )
    assert ten_minutes_ahead(scheduled_at)
    # And a scheduled batch may be run, rescheduled, stopped or deleted, not paused or resumed
    expect_actions(
        batch_row(page, batch_id),
        enabled={"Run now", "Schedule", "Stop", "Delete"},
        disabled={"Pause", "Resume"},
        state="scheduled",
    )


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"name,plan\nAlice,basic\nBob,premium\n", id="no-number-column"),
        pytest.param(b"contact_number,name\n123,Alice\nabc,Bob\n", id="no-valid-row"),
    ],
)
def test_an_invalid_file_shows_the_apis_message(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str, tmp_path: Path, content: bytes
) -> None:
    # Given a file the API refuses, and the message it refuses it with
    path = tmp_path / "contacts.csv"
    path.write_bytes(content)
    refused = http.post(
        f"{stack.api_url}/batches",
        data={"agent_id": stack.agent_id},
        files={"file": ("contacts.csv", content, "text/csv")},
        timeout=30,
    )
    assert refused.status_code == 400, refused.text
    # When the user chooses it in the upload dialog
    sign_in(page, dashboard_url, stack.api_key)
    open_agent(page, dashboard_url, stack.agent_id)
    dialog = choose_file(page, path)
    # Then the dialog shows the API's own message, as an alert
    alert = dialog.get_by_test_id("upload-error")
    expect(alert).to_contain_text(refused.json()["message"])
    expect(alert).to_have_attribute("role", "alert")
    # And there is nothing to confirm: `Upload this batch` is disabled or absent
    expect(action(dialog, "Upload this batch").and_(dialog.locator(":enabled"))).to_have_count(0)


def test_cancel_deletes_the_batch_the_dialog_created(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    listing = f"{stack.api_url}/batches/{stack.agent_id}/all"
    before = {b["batch_id"] for b in http.get(listing, timeout=30).json()}
    sign_in(page, dashboard_url, stack.api_key)
    open_agent(page, dashboard_url, stack.agent_id)
    # Given a file read by the dialog (which created a batch, nothing called)
    dialog = choose_file(page, SAMPLE)
    expect(dialog.get_by_text("Valid 7", exact=True)).to_be_visible()
    created = {b["batch_id"] for b in http.get(listing, timeout=30).json()} - before
    assert len(created) == 1
    # When the user cancels
    with page.expect_response(lambda r: r.request.method == "DELETE" and "/batches/" in r.url) as deleted:
        action(dialog, "Cancel").click()
    # Then the batch it created is gone
    assert deleted.value.status == 200
    expect(dialog).to_be_hidden()
    assert http.get(f"{stack.api_url}/batches/{created.pop()}", timeout=30).status_code == 404
