"""An agent's call history and each call's timeline, over HTTP on the local stack, after a real run."""

from __future__ import annotations

from typing import Any

import requests

from tests.support.e2e import wait_until

NUMBERS = [f"+1202555{300 + i:04d}" for i in range(5)]


def test_a_finished_batch_is_in_the_agents_history_and_each_call_has_its_timeline(
    stack: Any, http: requests.Session
) -> None:
    url = stack.api_url
    contacts = [{"contact_number": n, "customer_name": f"H{i}"} for i, n in enumerate(NUMBERS)]
    created = http.post(f"{url}/batches", json={"agent_id": stack.agent_id, "contacts": contacts}, timeout=30)
    assert created.status_code == 201, created.text
    batch_id = created.json()["batch_id"]
    assert http.post(f"{url}/batches/{batch_id}/run", timeout=30).status_code == 200
    wait_until(
        lambda: http.get(f"{url}/batches/{batch_id}", timeout=30).json()["status"] == "completed",
        150,
        "the batch to complete",
    )
    # The agent's history, filtered to the batch, paged two at a time by has_more: every call once
    seen: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = http.get(
            f"{url}/v2/agent/{stack.agent_id}/executions",
            params={"batch_id": batch_id, "page_number": page, "page_size": 2},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        seen.extend(answer.json()["data"])
        if not answer.json()["has_more"]:
            break
        page += 1
    executions = http.get(f"{url}/batches/{batch_id}/executions", timeout=30).json()
    assert sorted(e["id"] for e in seen) == sorted(e["id"] for e in executions) and page == 3
    # Each call's timeline: queued by the dispatcher, claimed and placed by the dialer, ended as it shows
    for execution in executions:
        log = http.get(f"{url}/executions/{execution['id']}/log", timeout=30)
        assert log.status_code == 200, log.text
        entries = log.json()["data"]
        statuses = [e for e in entries if e["type"] == "status"]
        assert (statuses[0]["component"], statuses[0]["status"]) == ("dispatcher", "queued")
        assert statuses[-1]["status"] == execution["status"]
        assert any(e["type"] == "request" and e["component"] == "dialer" for e in entries)
        assert not any(n in log.text for n in NUMBERS)
