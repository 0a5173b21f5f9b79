"""Helpers for tests that create, run and read batches through chalice.test.Client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.records import Execution
from chalicelib.services.container import Dependencies
from chalicelib.store import batches as store_batches
from tests.support.api import post_csv
from tests.support.pump import Pump


def contacts_csv(n: int) -> bytes:
    rows = "".join(f"+1202555{100 + i:04d},Name{i},plan{i % 3}\n" for i in range(n))
    return ("contact_number,customer_name,plan\n" + rows).encode()


def create_and_run(client: Client, tenant: tuple[str, str], n: int, **fields: str) -> tuple[str, dict[str, str]]:
    """A batch of `n` contacts (with `fields` as form fields), created (201) and run (200)."""
    batch_id, auth = make_batch(client, tenant, n, **fields)
    response = client.http.post(f"/batches/{batch_id}/run", headers=auth)
    assert response.status_code == 200, response.body
    return batch_id, auth


def is_completed(deps: Dependencies, batch_id: str) -> bool:
    """Dials waiting for a free slot come back after a delay: run (moving the clock) until the batch is done."""
    batch = deps.batches.find(batch_id)
    return batch is not None and batch.status == "completed"


def answered_call(client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies) -> Execution:
    """One simulator call answered, talked 30 s and run to its end (its batch completed)."""
    patch_agent(client, tenant, provider_config={"fixed_talk_seconds": 30})
    batch_id, _ = create_and_run(client, tenant, 1)
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    (execution,) = deps.executions.iter_batch(batch_id)
    assert execution.status == "completed"
    return execution


def executions_of(client: Client, batch_id: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = ""
    while True:
        response = client.http.get(f"/batches/{batch_id}/executions?limit=7{cursor}", headers=auth)
        out.extend(json.loads(response.body))
        nxt = response.headers.get("X-Next-Cursor")
        if not nxt:
            return out
        cursor = f"&cursor={nxt}"


def make_batch(client: Client, tenant: tuple[str, str], n: int, **fields: str) -> tuple[str, dict[str, str]]:
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    response = post_csv(client, key, {"agent_id": agent_id, **fields}, contacts_csv(n))
    assert response.status_code == 201, response.body
    return json.loads(response.body)["batch_id"], auth


def patch_agent(client: Client, tenant: tuple[str, str], **fields: Any) -> None:
    key, agent_id = tenant
    response = client.http.patch(
        f"/agents/{agent_id}",
        body=json.dumps(fields),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.body


def dispatched_batch(
    client: Client, tenant: tuple[str, str], pump: Pump, n: int, *, agent_limit: int, **fields: str
) -> tuple[str, dict[str, str]]:
    """A batch of `n` contacts created, run and dispatched (every dial message queued, none taken yet), its agent
    allowing `agent_limit` live calls (`max_concurrent_calls`)."""
    patch_agent(client, tenant, max_concurrent_calls=agent_limit)
    batch_id, auth = create_and_run(client, tenant, n, **fields)
    while pump.step("dispatcher"):
        pass
    return batch_id, auth


def running_sharded_batch(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    monkeypatch: pytest.MonkeyPatch,
    n: int,
    *,
    agent_limit: int = 100,
    **fields: str,
) -> tuple[str, dict[str, str]]:
    """`dispatched_batch` with counter shards for any size (the threshold lowered to 1): a large batch, in small."""
    monkeypatch.setattr(store_batches, "SHARD_MIN_CONTACTS", 1)
    return dispatched_batch(client, tenant, pump, n, agent_limit=agent_limit, **fields)
