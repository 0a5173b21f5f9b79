"""Helpers for the provider tests: point the agent at a provider, start a batch, read what a call moved,
and make the dialer crash (once) at the worst moment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from chalice.test import Client

from chalicelib import aws
from chalicelib.domain.records import Execution
from chalicelib.resources import DIAL_QUEUE, LEASES, table_name
from chalicelib.services.container import Dependencies
from chalicelib.store.leases import LEASE, agent_key
from tests.support.api import post_csv
from tests.support.batches import contacts_csv
from tests.support.pump import Pump


def use_provider(client: Client, tenant: tuple[str, str], provider: str, **fields: Any) -> dict[str, str]:
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    response = client.http.patch(f"/agents/{agent_id}", body=json.dumps({"provider": provider, **fields}), headers=auth)
    assert response.status_code == 200, response.body
    return auth


def start_batch(client: Client, tenant: tuple[str, str], n: int) -> str:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id}, contacts_csv(n))
    assert response.status_code == 201, response.body
    batch_id: str = json.loads(response.body)["batch_id"]
    ran = client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"})
    assert ran.status_code == 200, ran.body
    return batch_id


def executions(deps: Dependencies, batch_id: str) -> list[Execution]:
    return list(deps.executions.iter_batch(batch_id))


def post_callback(client: Client, provider: str, execution_id: str, headers: dict[str, str], body: str | bytes) -> int:
    response = client.http.post(f"/providers/{provider}/events?execution_id={execution_id}", headers=headers, body=body)
    return int(response.status_code)


def call_state(deps: Dependencies, execution: Execution) -> dict[str, Any]:
    """Everything a callback could move for one call: the execution, its batch's counters, its live-call slot."""
    key = agent_key(execution.tenant_id, execution.agent_id)
    lease = aws.dynamodb().get_item(
        TableName=table_name(deps.settings, LEASES),
        Key={"agent_key": {"S": key}, "lease_id": {"S": execution.execution_id}},
        ConsistentRead=True,
    )
    found = deps.executions.find(execution.execution_id)
    on_item = (found.model_extra or {}).get(LEASE) if found else None  # the lease, since it is on the execution
    return {
        "execution": found,
        "batch": deps.batches.find(execution.batch_id),
        "live_calls": deps.leases.live(key),
        "lease": lease.get("Item") or on_item,
    }


def crash_once_after_placement(deps: Dependencies, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The dialer dies (once) right after the provider accepted a call, before recording it.

    Returns the list that receives the crashed execution's id.
    """
    real = deps.executions.set_fields
    crashes: list[str] = []

    def set_fields(execution_id: str, fields: dict[str, Any], **kw: Any) -> bool:
        if "provider_call_id" in fields and not crashes:
            crashes.append(execution_id)
            raise RuntimeError("Lambda timed out")
        return real(execution_id, fields, **kw)

    monkeypatch.setattr(deps.executions, "set_fields", set_fields)
    return crashes


def crash_then_redeliver(pump: Pump) -> None:
    """Run until the crash (the invocation fails), then let SQS hand the message back after its visibility."""
    with pytest.raises(BatchProcessingError):
        pump.run(advance_seconds=1)
    pump.advance(DIAL_QUEUE.visibility_timeout + 1)
    pump.run()


def settle(deps: Dependencies, pump: Pump, batch_id: str) -> list[Execution]:
    """Run (moving the clock through backoffs) until no call of the batch is still waiting to be placed."""

    def done() -> bool:
        rows = executions(deps, batch_id)
        return bool(rows) and all(e.provider_call_id or e.status in ("failed", "error") for e in rows)

    pump.run(until=done, advance_seconds=1)
    return executions(deps, batch_id)


def placed(deps: Dependencies, pump: Pump, batch_id: str) -> Execution:
    pump.run(until=lambda: any(e.provider_call_id for e in executions(deps, batch_id)), advance_seconds=1)
    [execution] = executions(deps, batch_id)
    return execution
