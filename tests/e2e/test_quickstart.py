"""Bolna's quickstart against the local stack, over plain HTTP, as a user would run it."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.support.e2e import ROOT, wait_until


def test_quickstart_create_schedule_poll_list(stack: Any, http: requests.Session) -> None:
    url = stack.api_url
    # Create from the sample CSV shipped in the repo
    with open(ROOT / "samples" / "contacts.csv", "rb") as sample:
        created = http.post(
            f"{url}/batches",
            data={"agent_id": stack.agent_id},
            files={"file": ("contacts.csv", sample, "text/csv")},
            timeout=30,
        )
    assert created.status_code == 201, created.text
    batch = created.json()
    assert (
        batch["total_contacts"],
        batch["valid_contacts"],
        batch["invalid_contacts"],
        batch["duplicate_contacts"],
    ) == (9, 7, 1, 1)
    batch_id = batch["batch_id"]
    # Schedule one minute ahead, with an offset as Bolna's docs show
    at = (datetime.now(UTC) + timedelta(minutes=1)).astimezone().replace(microsecond=0)
    scheduled = http.post(f"{url}/batches/{batch_id}/schedule", data={"scheduled_at": at.isoformat()}, timeout=30)
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["state"] == "scheduled"
    # Nothing is dialled before the time
    assert http.get(f"{url}/batches/{batch_id}", timeout=30).json()["execution_status"] == {}
    # Poll until completed
    status: dict[str, Any] = {}

    def completed() -> bool:
        status.update(http.get(f"{url}/batches/{batch_id}", timeout=30).json())
        return status["status"] == "completed"

    wait_until(completed, 150, "the batch to complete")
    assert datetime.fromisoformat(status["started_at"].replace("Z", "+00:00")) >= at
    # One execution per valid contact, recipient data echoed, counts matching
    executions = http.get(f"{url}/batches/{batch_id}/executions", timeout=30).json()
    assert isinstance(executions, list) and len(executions) == 7
    assert len({e["user_number"] for e in executions}) == 7
    assert all(set(e["context_details"]["recipient_data"]) == {"customer_name", "plan"} for e in executions)
    assert status["execution_status"] == dict(Counter(e["status"] for e in executions))
    assert sum(status["execution_status"].values()) == status["valid_contacts"] == 7
    # The CSV export has one row per contact, input columns first
    export = http.get(f"{url}/batches/{batch_id}/executions.csv", timeout=30)
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 7 and {r["customer_name"] for r in rows} == {
        e["context_details"]["recipient_data"]["customer_name"] for e in executions
    }


def test_wrong_key_is_401_over_http(stack: Any) -> None:
    response = requests.get(f"{stack.api_url}/agents", headers={"Authorization": "Bearer nope"}, timeout=30)
    assert response.status_code == 401 and response.json()["code"] == "invalid_api_key"
