"""The batches list patches its rows in place: a poll leaves unchanged rows (and the button under the user's
pointer) alone, so a click landing while the list refreshes is not lost."""

from __future__ import annotations

from typing import Any

import requests
from playwright.sync_api import expect

from .dashboard import batch_row, open_agent, sign_in, status_word
from .test_controls import create_batch

MARK = "el => { el.dataset.seen = 'before-poll'; }"


def test_a_poll_replaces_only_the_rows_that_changed(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    api = stack.api_url
    # Given two created batches on the list, each row marked in the page
    steady = create_batch(http, api, stack.agent_id)
    moving = create_batch(http, api, stack.agent_id)
    sign_in(page, dashboard_url, stack.api_key)
    open_agent(page, dashboard_url, stack.agent_id)
    for batch_id in (steady, moving):
        expect(batch_row(page, batch_id).get_by_test_id("batch-status")).to_have_text(status_word("created"))
        batch_row(page, batch_id).evaluate(MARK)
    # When one batch runs to the end while the list keeps polling
    assert http.post(f"{api}/batches/{moving}/run", timeout=30).status_code == 200
    expect(batch_row(page, moving).get_by_test_id("batch-status")).to_have_text(
        status_word("completed"), timeout=60_000
    )
    # Then the changed row was rebuilt and the unchanged one is the very same element, mark and all
    assert batch_row(page, moving).get_attribute("data-seen") is None
    assert batch_row(page, steady).get_attribute("data-seen") == "before-poll"
