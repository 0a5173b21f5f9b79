"""The audit log: every change an API key makes is recorded with the key's label, the time, the action, the
target and the request id (the answer's X-Request-Id); it is listed newest first, paged and filtered by
target, never changed through the API, and another tenant sees none of it."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from chalicelib.services.auth import create_api_key
from chalicelib.services.container import Dependencies
from tests.support.api import post_csv
from tests.support.batches import contacts_csv
from tests.support.pump import Pump


def call(client: Client, method: str, path: str, key: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return getattr(client.http, method)(path, headers=headers, body=json.dumps(body) if body is not None else None)


def audit(client: Client, key: str, query: str = "") -> list[dict[str, Any]]:
    """Every entry, following X-Next-Cursor."""
    entries: list[dict[str, Any]] = []
    cursor = ""
    while True:
        response = call(client, "get", f"/audit?limit=3{query}{cursor}", key)
        assert response.status_code == 200, response.body
        entries.extend(json.loads(response.body))
        nxt = response.headers.get("X-Next-Cursor")
        if not nxt:
            return entries
        cursor = f"&cursor={nxt}"


def test_every_change_is_recorded_with_the_keys_label_and_the_request_id(
    client: Client, deps: Dependencies, tenant: tuple[str, str], pump: Pump
) -> None:
    # Given a key labelled "ci"
    key = create_api_key(deps.keys, "tenant-a", "ci")
    done: list[tuple[str, str, str]] = []  # (action, target, request id) as the answers said

    def change(action: str, target: str, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = call(client, method, path, key, body)
        assert response.status_code == status, response.body
        done.append((action, target, response.headers["X-Request-Id"]))
        return json.loads(response.body)

    # When it changes agents, batches, the webhook secret and asks for an erasure
    agent = change("agent.created", "", "post", "/agents", {"name": "Sales"}, 201)
    done[-1] = ("agent.created", f"agent:{agent['id']}", done[-1][2])
    change("agent.updated", f"agent:{agent['id']}", "patch", f"/agents/{agent['id']}", {"max_concurrent_calls": 3})
    created = post_csv(client, key, {"agent_id": agent["id"]}, contacts_csv(2))
    batch_id = json.loads(created.body)["batch_id"]
    done.append(("batch.created", f"batch:{batch_id}", created.headers["X-Request-Id"]))
    target = f"batch:{batch_id}"
    change("batch.scheduled", target, "post", f"/batches/{batch_id}/schedule", {"scheduled_at": "2027-06-01T00:00:00Z"})
    change("batch.run", target, "post", f"/batches/{batch_id}/run")
    pump.step("dispatcher")  # the start: the batch is running
    change("batch.paused", target, "post", f"/batches/{batch_id}/pause")
    change("batch.resumed", target, "post", f"/batches/{batch_id}/resume")
    change("batch.stopped", target, "post", f"/batches/{batch_id}/stop")
    change("batch.deleted", target, "delete", f"/batches/{batch_id}")
    change("webhook_secret.rotated", "webhook_secret", "post", "/webhooks/secret/rotate")
    erasure = change("erasure.requested", "", "post", "/erasures", {"phone_number": "+12025550100"}, 202)
    done[-1] = ("erasure.requested", f"erasure:{erasure['id']}", done[-1][2])
    change("agent.deleted", f"agent:{agent['id']}", "delete", f"/agents/{agent['id']}")
    change("suppression.added", "suppressions", "post", "/suppressions", {"number": "+12025550188"}, 201)
    change("suppression.removed", "suppression:+******0188", "delete", "/suppressions/%2B12025550188")
    # and a refused change and a read, which change nothing
    assert call(client, "post", f"/batches/{batch_id}/run", key).status_code == 404
    assert call(client, "get", "/agents", key).status_code == 200
    # Then each change is one entry, newest first, with the key's label and the request id it answered with
    entries = audit(client, key)
    assert [(e["action"], e["target"], e["request_id"]) for e in entries] == done[::-1]
    assert {e["key_label"] for e in entries} == {"ci"}
    assert len({e["request_id"] for e in entries}) == len(done)
    assert all(e["at"] and e["id"] for e in entries)
    # And the filter by target lists one batch's entries only
    assert [e["action"] for e in audit(client, key, f"&target={target}")] == [
        "batch.deleted", "batch.stopped", "batch.resumed", "batch.paused", "batch.run", "batch.scheduled",
        "batch.created",
    ]  # fmt: skip


def test_the_log_cannot_be_changed_through_the_api_and_another_tenant_sees_none_of_it(
    client: Client, tenant: tuple[str, str], other_tenant: tuple[str, str]
) -> None:
    # Given tenant A's log with one entry
    key, agent_id = tenant
    assert call(client, "patch", f"/agents/{agent_id}", key, {"name": "Renamed"}).status_code == 200
    (entry,) = audit(client, key)
    # When anyone tries to change or delete it
    for method in ("post", "put", "patch", "delete"):
        for path in ("/audit", f"/audit/{entry['id']}"):
            response = call(client, method, path, key, {"action": "nothing"})
            # Then no route takes it (the test gateway, like API Gateway, answers an unknown path 403)
            assert response.status_code in (403, 404, 405), (method, path, response.status_code)
    assert audit(client, key) == [entry]
    # And tenant B sees none of A's entries, not even by A's target
    assert audit(client, other_tenant[0]) == []
    assert audit(client, other_tenant[0], f"&target=agent:{agent_id}") == []


def test_a_cursor_only_works_on_the_listing_it_came_from(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    for n in range(4):
        call(client, "patch", f"/agents/{agent_id}", key, {"name": f"n{n}"})
    cursor = call(client, "get", "/audit?limit=2", key).headers["X-Next-Cursor"]
    # A cursor of the whole log, used on a target's listing (or altered), is refused
    for query in (f"target=agent:{agent_id}&cursor={cursor}", f"cursor={cursor}x"):
        response = call(client, "get", f"/audit?{query}", key)
        assert response.status_code == 400 and json.loads(response.body)["code"] == "invalid_cursor"


def test_a_target_filter_that_names_nothing_storable_is_a_400(client: Client, tenant: tuple[str, str]) -> None:
    for target in ("b" * 301, "batch:\x01"):
        response = call(client, "get", f"/audit?target={target}", tenant[0])
        assert response.status_code == 400 and json.loads(response.body)["code"] == "invalid_query"
