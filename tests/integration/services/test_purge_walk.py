"""Deleting a batch purges it: no execution, object or delivery log of it is left once its walk has run,
live calls included (they are purged once they end), and the tenant's other batches keep theirs."""

from __future__ import annotations

from typing import Any

from chalice.test import Client

from chalicelib import aws
from chalicelib.domain.messages import ProviderEvent
from chalicelib.resources import BATCHES, EXECUTIONS, LEASES, PROVIDER_EVENTS_QUEUE, WEBHOOK_DELIVERIES, table_name
from chalicelib.services.container import Dependencies
from tests.support.batches import contacts_csv, create_and_run, patch_agent
from tests.support.items import item_text
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider
from tests.support.uploads import presign
from tests.support.webhooks import Receiver


def scan(deps: Dependencies, table: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in aws.dynamodb().get_paginator("scan").paginate(TableName=table_name(deps.settings, table)):
        items.extend(page["Items"])
    return items


def mentions(items: list[dict[str, Any]], batch_id: str) -> list[dict[str, Any]]:
    return [item for item in items if batch_id in item_text(item)]


def bucket_keys(deps: Dependencies) -> list[str]:
    keys: list[str] = []
    for page in aws.s3().get_paginator("list_objects_v2").paginate(Bucket=deps.blobs.bucket):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def started_batch(client: Client, tenant: tuple[str, str], receiver: Receiver, n: int) -> str:
    hooks = {"webhook_url": f"{receiver.url}/calls", "status_webhook": f"{receiver.url}/s"}
    return create_and_run(client, tenant, n, **hooks)[0]


def test_deleting_a_running_batch_leaves_no_execution_object_or_log_of_it(
    client: Client,
    tenant: tuple[str, str],
    hooks: Dependencies,
    pump: Pump,
    receiver: Receiver,
    scripted: ScriptedProvider,
) -> None:
    deps = hooks
    key, _ = tenant
    auth = {"Authorization": f"Bearer {key}"}
    deps.settings = deps.settings.model_copy(update={"export_inline_max_rows": 2})  # exports go to S3
    patch_agent(client, tenant, max_concurrent_calls=3)
    # Given a finished batch of the same tenant, which must keep everything
    kept = started_batch(client, tenant, receiver, 4)
    pump.run(until=lambda: deps.batches.find(kept).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    assert client.http.get(f"/batches/{kept}/executions.csv", headers=auth).status_code == 303
    # And a 30-contact batch with row errors, an S3 export, webhook deliveries, some calls ended
    batch_id = started_batch(client, tenant, receiver, 30)
    pump.run(until=lambda: len(scripted.dials) >= 10, advance_seconds=2)
    assert client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth).status_code == 303
    pump.run(until=lambda: sum(1 for r in receiver.received if r.path == "/calls") >= 5, advance_seconds=1)
    # and three calls live at the moment of the delete (their provider reports later)
    scripted.report = False
    dialled = len(scripted.dials)
    pump.run(until=lambda: len(scripted.dials) >= dialled + 3, advance_seconds=1)
    live = [e for e in deps.executions.iter_batch(batch_id) if e.status == "initiated"]
    assert live
    # When the batch is deleted and the queues drain (the live calls end a few minutes later)
    response = client.http.delete(f"/batches/{batch_id}", headers=auth)
    assert response.status_code == 200, response.body
    pump.run(advance_seconds=30, until=lambda: pump.advanced_seconds > 180)
    assert deps.batches.find(batch_id).purged_at is None  # type: ignore[union-attr]  # waits for live calls
    for execution in live:
        event = ProviderEvent.of(execution.execution_id, "simulator", f"c-{execution.execution_id}", "completed")
        deps.queues.send(PROVIDER_EVENTS_QUEUE, event)
    pump.run(advance_seconds=30, until=lambda: bool(deps.batches.find(batch_id).purged_at))  # type: ignore[union-attr]
    pump.run()
    # Then no execution, lease, delivery log row or object of the batch is left anywhere
    assert mentions(scan(deps, EXECUTIONS), batch_id) == []
    assert mentions(scan(deps, LEASES), batch_id) == []
    assert mentions(scan(deps, WEBHOOK_DELIVERIES), batch_id) == []
    assert [k for k in bucket_keys(deps) if batch_id in k] == []
    # And the batch is a tombstone: purged_at set, still a 404, nothing that could name a person
    (tombstone,) = [item for item in scan(deps, BATCHES) if item["batch_id"]["S"] == batch_id]
    assert tombstone["deleted_at"] and tombstone["purged_at"]
    assert not {"name", "file_name", "warnings", "failure_reason", "csv_export"} & set(tombstone)
    assert client.http.get(f"/batches/{batch_id}", headers=auth).status_code == 404
    # And the other batch kept its executions, objects and delivery log
    assert len([e for e in deps.executions.iter_batch(kept)]) == 4
    assert [k for k in bucket_keys(deps) if k.startswith(f"batches/{kept}/")]
    assert [k for k in bucket_keys(deps) if f"/{kept}/" in k and k.startswith("exports/")]
    assert mentions(scan(deps, WEBHOOK_DELIVERIES), kept)


def test_a_purge_step_delivered_twice_deletes_nothing_twice_and_finishes(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a completed batch
    key, _ = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id, _ = create_and_run(client, tenant, 5)
    pump.run(until=lambda: deps.batches.find(batch_id).status == "completed", advance_seconds=2)  # type: ignore[union-attr]
    # When it is deleted and every control message is delivered twice
    pump.duplicate = lambda name, body: name == "dispatcher"
    assert client.http.delete(f"/batches/{batch_id}", headers=auth).status_code == 200
    pump.run()
    # Then it is purged, once, and a second delete is a 404
    assert deps.batches.find(batch_id).purged_at  # type: ignore[union-attr]
    assert list(deps.executions.iter_batch(batch_id)) == []
    assert [k for k in bucket_keys(deps) if batch_id in k] == []
    assert client.http.delete(f"/batches/{batch_id}", headers=auth).status_code == 404


def test_a_deleted_batch_sends_no_more_webhooks(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given a batch whose `validating`-free lifecycle webhook is queued but not yet sent
    key, _ = tenant
    batch_id = started_batch(client, tenant, receiver, 2)
    pump.step("dispatcher")  # the start: `dispatching` is queued for the status webhook
    # When the batch is deleted before the sender runs
    assert client.http.delete(f"/batches/{batch_id}", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    pump.run()
    # Then nothing was sent or logged for it
    assert receiver.received == []
    assert mentions(scan(hooks, WEBHOOK_DELIVERIES), batch_id) == []


def test_a_file_uploaded_for_a_batch_deleted_meanwhile_is_kept_nowhere(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a presigned upload whose batch is deleted (and purged) before the file arrives
    key, agent_id = tenant
    upload = presign(client, key, {"agent_id": agent_id})
    batch_id = upload["batch_id"]
    assert client.http.delete(f"/batches/{batch_id}", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    pump.run()
    # When the file arrives
    aws.s3().put_object(Bucket=deps.blobs.bucket, Key=upload["upload"]["fields"]["key"], Body=contacts_csv(3))
    pump.run()
    # Then neither it nor any contact chunk of it is kept
    assert [k for k in bucket_keys(deps) if batch_id in k] == []
    assert deps.batches.find(batch_id).purged_at  # type: ignore[union-attr]
