"""The network dropping is shown, and the live batch page recovers by itself once it is back."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from playwright.sync_api import expect

from .conftest import ROOT
from .dashboard import LONG, sign_in, status_word

SAMPLE = ROOT / "samples" / "contacts.csv"


def test_a_dropped_network_is_shown_and_polling_recovers(
    page: Any, stack: Any, http: requests.Session, dashboard_url: str
) -> None:
    api = stack.api_url
    # Given a batch whose calls last ~10 s (at the stack's speed), running, open in the dashboard
    agent = http.post(
        f"{api}/agents",
        json={
            "name": f"Network agent {uuid.uuid4().hex[:6]}",
            "provider_config": {"fixed_talk_seconds": 2400},
            "call_start_hour": 0,
            "call_end_hour": 24,
        },
        timeout=30,
    ).json()
    with open(SAMPLE, "rb") as sample:
        batch_id = http.post(
            f"{api}/batches",
            data={"agent_id": agent["agent_id"]},
            files={"file": ("contacts.csv", sample, "text/csv")},
            timeout=30,
        ).json()["batch_id"]
    assert http.post(f"{api}/batches/{batch_id}/run", timeout=30).status_code == 200
    sign_in(page, dashboard_url, stack.api_key)
    page.goto(f"{dashboard_url}#/batches/{batch_id}")
    status = page.get_by_test_id("batch-status")
    expect(status).to_have_text(status_word("running"), timeout=LONG)
    # When the network drops, the page says so
    banner = page.get_by_test_id("network-status")
    page.context.set_offline(True)
    expect(banner).to_be_visible(timeout=LONG)
    expect(banner).to_have_attribute("role", "status")
    # When it comes back, the banner goes and the page follows the batch to its end, with no reload
    page.context.set_offline(False)
    expect(banner).to_be_hidden(timeout=LONG)
    expect(status).to_have_text(status_word("completed"), timeout=LONG)
