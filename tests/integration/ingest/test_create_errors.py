"""A drop-folder batch whose create fails for a reason other than "it exists already" is never taken for a duplicate."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

from chalicelib import aws
from chalicelib.errors import Throttled
from chalicelib.services.container import Dependencies
from chalicelib.services.ingest import ingest_object
from tests.integration.workers.test_campaign import contacts_csv


def test_a_throttled_create_is_retried_not_read_as_an_existing_batch(
    client: Client, tenant: tuple[str, str], deps: Dependencies, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a CSV dropped into an agent's inbox, and DynamoDB throttling every write to the batches table
    _, agent_id = tenant
    key = f"inbox/{agent_id}/april.csv"
    etag = aws.s3().put_object(Bucket=deps.blobs.bucket, Key=key, Body=contacts_csv(2))["ETag"]
    dynamodb = aws.dynamodb()
    put_item = dynamodb.put_item

    def throttled(**request: Any) -> Any:
        if request["TableName"] == deps.batches.table:
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
            raise ClientError(error, "PutItem")  # type: ignore[arg-type]
        return put_item(**request)

    monkeypatch.setattr(dynamodb, "put_item", throttled)
    # When the drop is ingested, it fails as throttled (so the notification is redelivered), not as "not found"
    with pytest.raises(Throttled):
        ingest_object(deps, key, etag)
    # And once the throttle passes, the redelivered notification makes the batch
    monkeypatch.undo()
    ingest_object(deps, key, etag)
    [batch] = deps.batches.list_for_agent(deps.agents.find_by_id(agent_id).tenant_id, agent_id)  # type: ignore[union-attr]
    assert batch.valid_contacts == 2 and batch.status == "created"


def test_two_workers_racing_on_one_drop_make_one_batch(
    client: Client, tenant: tuple[str, str], deps: Dependencies, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a drop already made into a batch, and a second worker that looked before the first one wrote it
    _, agent_id = tenant
    key = f"inbox/{agent_id}/may.csv"
    etag = aws.s3().put_object(Bucket=deps.blobs.bucket, Key=key, Body=contacts_csv(2))["ETag"]
    ingest_object(deps, key, etag)
    find = deps.batches.find
    looked: list[str] = []

    def stale_find(batch_id: str) -> Any:
        if not looked:
            looked.append(batch_id)
            return None  # the race: not there yet when this worker looked
        return find(batch_id)

    monkeypatch.setattr(deps.batches, "find", stale_find)
    # When the second worker ingests the same drop, its create finds the batch there already
    ingest_object(deps, key, etag)
    # Then it carries on with that batch: still one batch, finished once
    tenant_id = deps.agents.find_by_id(agent_id).tenant_id  # type: ignore[union-attr]
    [batch] = deps.batches.list_for_agent(tenant_id, agent_id)
    assert looked and batch.valid_contacts == 2 and batch.status == "created"
