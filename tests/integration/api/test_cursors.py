"""Paged listings through the API: real cursors page to the end; any other cursor is 400 invalid_cursor at once."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import aws, clock
from chalicelib.services.container import Dependencies
from chalicelib.store.dynamo import to_item
from tests.support.api import CSV, post_csv

STATUSES = ["completed", "busy", "completed", "no-answer", "completed"]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def new_batch(client: Client, deps: Dependencies, tenant: tuple[str, str]) -> str:
    """A batch with five ended executions and five webhook attempts logged."""
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id}, CSV.encode())
    assert response.status_code == 201, response.body
    batch_id: str = json.loads(response.body)["batch_id"]
    now = clock.now_iso()
    executions = [
        {
            "execution_id": f"{batch_id[:20]}{i:012d}",
            "batch_id": batch_id,
            "tenant_id": "tenant-a",
            "agent_id": agent_id,
            "seq": f"{i:09d}#01",
            "status": status,
            "user_number": f"+1202555{i:04d}",
            "attempt": 1,
            "created_at": now,
            "updated_at": now,
        }
        for i, status in enumerate(STATUSES)
    ]
    for item in executions:
        aws.dynamodb().put_item(TableName=deps.executions.table, Item=to_item(item))
    for i in range(5):
        deps.deliveries.log(
            {
                "batch_id": batch_id,
                "event_id": f"ev{i}",
                "event": "call.ended",
                "attempt": 1,
                "url_host": "hooks.example.com",
                "outcome": "delivered",
                "status_code": 200,
                "attempted_at": f"2026-01-01T00:00:0{i}Z",
            }
        )
    return batch_id


@pytest.fixture
def batches(client: Client, deps: Dependencies, tenant: tuple[str, str]) -> tuple[str, str]:
    return new_batch(client, deps, tenant), new_batch(client, deps, tenant)


def pages(client: Client, key: str, path: str, query: str = "") -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = []
    cursor = ""
    while True:
        response = client.http.get(f"{path}?limit=2{query}{cursor}", headers=auth(key))
        assert response.status_code == 200, response.body
        out.append(json.loads(response.body))
        nxt = response.headers.get("X-Next-Cursor")
        if not nxt:
            return out
        cursor = f"&cursor={nxt}"


def first_cursor(client: Client, key: str, path: str) -> str:
    cursor: str = client.http.get(f"{path}?limit=1", headers=auth(key)).headers["X-Next-Cursor"]
    return cursor


def test_paging_walks_every_listing_to_its_end(
    client: Client, tenant: tuple[str, str], batches: tuple[str, str]
) -> None:
    key, _ = tenant
    batch_id = batches[0]
    # When each listing is read two at a time, following X-Next-Cursor
    executions = pages(client, key, f"/batches/{batch_id}/executions")
    completed = pages(client, key, f"/batches/{batch_id}/executions", "&status=completed")
    log = pages(client, key, f"/batches/{batch_id}/webhooks")
    # Then every row comes once, in order, filtered where asked
    assert [e["user_number"] for page in executions for e in page] == [f"+1202555{i:04d}" for i in range(5)]
    assert [e["status"] for page in completed for e in page] == ["completed"] * 3
    assert [r["event_id"] for page in log for r in page] == [f"ev{i}" for i in range(5)]
    assert all(len(page) <= 2 for page in executions + completed + log)


@pytest.mark.parametrize(
    "forged",
    [
        b64({"batch_id": {"ZZ": "x"}}),  # an attribute type DynamoDB does not have
        b64({"batch_id": {"S": "b"}, "seq": {"S": "1"}, "execution_id": {"S": "e"}, "zzz": {"S": "x"}}),  # unknown
        b64({"batch_id": {"M": {"a": {"S": "b"}}}, "seq": {"S": "1"}, "execution_id": {"S": "e"}}),  # nested
        b64({"batch_id": "b", "seq": "1", "execution_id": "e"}) + ".AAAAAAAAAAAAAAAAAAAAAA",  # a made-up signature
        "not-a-cursor",
        "x" * 5000,
    ],
    ids=["unknown-type", "unknown-attribute", "nested-value", "made-up-signature", "garbage", "oversized"],
)
@pytest.mark.parametrize("listing", ["executions", "webhooks"])
def test_forged_cursors_are_400_invalid_cursor(
    client: Client, tenant: tuple[str, str], batches: tuple[str, str], forged: str, listing: str
) -> None:
    key, _ = tenant
    response = client.http.get(f"/batches/{batches[0]}/{listing}?cursor={forged}", headers=auth(key))
    assert response.status_code == 400, response.body
    body = json.loads(response.body)
    assert set(body) == {"message", "code", "details"} and body["code"] == "invalid_cursor"


def test_a_cursor_only_works_where_it_was_issued(
    client: Client, tenant: tuple[str, str], batches: tuple[str, str]
) -> None:
    key, _ = tenant
    mine, other = batches
    executions_cursor = first_cursor(client, key, f"/batches/{mine}/executions")
    webhooks_cursor = first_cursor(client, key, f"/batches/{mine}/webhooks")
    filtered = client.http.get(f"/batches/{mine}/executions?limit=1&status=completed", headers=auth(key))
    filtered_cursor = filtered.headers["X-Next-Cursor"]
    refused = [
        f"/batches/{mine}/webhooks?cursor={executions_cursor}",  # an /executions cursor on /webhooks
        f"/batches/{mine}/executions?cursor={webhooks_cursor}",  # and the other way round
        f"/batches/{other}/executions?cursor={executions_cursor}",  # another batch's listing
        f"/batches/{other}/webhooks?cursor={webhooks_cursor}",
        f"/batches/{mine}/executions?cursor={filtered_cursor}",  # from a filtered listing, used unfiltered
        f"/batches/{mine}/executions?status=busy&cursor={filtered_cursor}",  # or with another filter
    ]
    for path in refused:
        response = client.http.get(path, headers=auth(key))
        assert response.status_code == 400, path
        assert json.loads(response.body)["code"] == "invalid_cursor", path
    # While each cursor still works where it came from
    for path in (
        f"/batches/{mine}/executions?cursor={executions_cursor}",
        f"/batches/{mine}/webhooks?cursor={webhooks_cursor}",
        f"/batches/{mine}/executions?status=completed&cursor={filtered_cursor}",
    ):
        assert client.http.get(path, headers=auth(key)).status_code == 200, path
