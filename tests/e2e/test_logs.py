"""No full phone number reaches the logs while a batch runs on the local stack."""

from __future__ import annotations

import io
import json
from typing import Any

import requests

from tests.support.e2e import ROOT, wait_until


def test_a_running_batch_logs_no_full_phone_number(stack: Any, http: requests.Session, logs: io.StringIO) -> None:
    url = stack.api_url
    with open(ROOT / "samples" / "contacts.csv", "rb") as sample:
        batch_id = http.post(
            f"{url}/batches", data={"agent_id": stack.agent_id}, files={"file": ("contacts.csv", sample)}, timeout=30
        ).json()["batch_id"]
    http.post(f"{url}/batches/{batch_id}/run", timeout=30).raise_for_status()
    wait_until(lambda: http.get(f"{url}/batches/{batch_id}", timeout=30).json()["status"] == "completed", 120, "run")
    numbers = {e["user_number"] for e in http.get(f"{url}/batches/{batch_id}/executions", timeout=30).json()}
    text = logs.getvalue()
    placed = [json.loads(line) for line in text.splitlines() if '"call placed"' in line and batch_id in line]
    # The dialer logged each call, with its own correlation keys and a masked number...
    assert len(placed) == len(numbers) == 7
    executions = {e["id"] for e in http.get(f"{url}/batches/{batch_id}/executions", timeout=30).json()}
    assert {line["execution_id"] for line in placed} == executions
    assert all(line["batch_id"] == batch_id and line["tenant"] == "local" for line in placed)
    assert all(line["to"].startswith("+******") for line in placed)
    # ...and no log line anywhere holds a full number or its national digits
    for number in numbers:
        assert number not in text
        assert number[-10:] not in text
