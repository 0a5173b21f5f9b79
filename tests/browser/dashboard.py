"""A user's steps in the dashboard, by role and accessible name (docs/dashboard-testing.md is the contract).

Names are matched exactly: `Schedule` must not also find `Schedule` inside another control's name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

ACTIONS = ("Run now", "Schedule", "Pause", "Resume", "Stop", "Download", "Delete")
LONG = 60_000  # ms: a batch's whole run on the fast local stack, with room for a slow CI machine


def sign_in(page: Any, dashboard_url: str, api_key: str) -> None:
    page.goto(dashboard_url)
    page.get_by_label("API key", exact=True).fill(api_key)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="New agent", exact=True)).to_be_visible()


def set_field(field: Any, value: str) -> None:
    """Fill an input or textarea, or pick a select's option, whichever the form uses."""
    if field.evaluate("element => element.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)


def open_agent(page: Any, dashboard_url: str, agent_id: str) -> None:
    """The agent's Batches tab, through its hash route (the same document: nothing reloads)."""
    page.goto(f"{dashboard_url}#/agents/{agent_id}")
    expect(page.get_by_role("button", name="Upload batch", exact=True)).to_be_visible()


def choose_file(page: Any, path: Path | str) -> Any:
    """Open the upload dialog and pick the file; the dialog (which creates the batch at once) is returned."""
    page.get_by_role("button", name="Upload batch", exact=True).click()
    dialog = page.get_by_test_id("upload-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("CSV file", exact=True).set_input_files(str(path))
    return dialog


def batch_row(page: Any, batch_id: str) -> Any:
    return page.locator(f'tr[data-testid="batch-row"][data-batch-id="{batch_id}"]')


def batch_id_of_row_named(page: Any, name: str) -> str:
    row = page.get_by_test_id("batch-row").filter(has_text=name)
    expect(row).to_have_count(1, timeout=LONG)
    batch_id = row.get_attribute("data-batch-id")
    assert batch_id, f"the row of batch {name!r} carries no data-batch-id"
    return str(batch_id)


def action(scope: Any, name: str) -> Any:
    return scope.get_by_role("button", name=name, exact=True)


def expect_actions(scope: Any, enabled: set[str], disabled: set[str], state: str) -> None:
    """Each named action is enabled or disabled as the API allows it in that state."""
    for name in sorted(enabled):
        expect(action(scope, name), f"{name} enabled when {state}").to_be_enabled()
    for name in sorted(disabled):
        expect(action(scope, name), f"{name} disabled when {state}").to_be_disabled()


def confirm(page: Any) -> None:
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    action(dialog, "Confirm").click()
    expect(dialog).to_be_hidden()


def status_word(*words: str) -> re.Pattern[str]:
    """The status cell shows one of these API status words, alone (surrounding whitespace aside)."""
    return re.compile(rf"^\s*({'|'.join(map(re.escape, words))})\s*$")
