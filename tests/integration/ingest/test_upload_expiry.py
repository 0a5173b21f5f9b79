"""A presigned upload whose file never arrives ends as a `failed` batch (`upload_not_received`), so it
no longer shows as validating forever nor holds its agent; a file that did arrive is never failed by it."""

from __future__ import annotations

from typing import Any

from chalice.test import Client

from chalicelib import aws
from chalicelib.services.container import Dependencies
from chalicelib.services.ingest import PRESIGN_SECONDS
from chalicelib.services.upload_expiry import UPLOAD_GRACE
from tests.support.batches import contacts_csv
from tests.support.pump import Pump
from tests.support.uploads import batch_of, presign
from tests.support.webhooks import Receiver

PAST_DUE = PRESIGN_SECONDS + UPLOAD_GRACE.total_seconds() + 60


def _status_events(receiver: Receiver) -> list[Any]:
    return [r.payload for r in receiver.received if r.path == "/status" and r.nth == 1]


def test_an_upload_never_sent_fails_its_batch_and_frees_the_agent(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given a presigned upload with a status webhook, whose file is never sent
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    upload = presign(client, key, {"agent_id": agent_id, "status_webhook": f"{receiver.url}/status"})
    pump.run()
    assert batch_of(client, key, upload["batch_id"])["status"] == "validating"
    assert client.http.delete(f"/agents/{agent_id}", headers=auth).status_code == 409
    # When the URL has expired and the grace period passed
    pump.run(until=lambda: batch_of(client, key, upload["batch_id"])["status"] != "validating", advance_seconds=60)
    pump.run()
    # Then the batch is failed, saying why
    batch = batch_of(client, key, upload["batch_id"])
    assert batch["status"] == "failed"
    assert batch["failure_reason"]["code"] == "upload_not_received" and batch["failure_reason"]["message"]
    # And not before the URL expired plus the grace period
    assert pump.advanced_seconds >= PRESIGN_SECONDS + UPLOAD_GRACE.total_seconds()
    # And the status webhook announced validating, then failed with the reason
    events = _status_events(receiver)
    assert [e["status"] for e in events] == ["validating", "failed"]
    assert events[-1]["reason"] == "upload_not_received"
    # And the agent can now be deleted
    assert client.http.delete(f"/agents/{agent_id}", headers=auth).status_code == 200


def test_a_file_that_arrived_is_not_failed_by_the_check(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a presigned upload whose file arrived but is not yet ingested (a large file takes minutes)
    key, agent_id = tenant
    upload = presign(client, key, {"agent_id": agent_id})
    aws.s3().put_object(Bucket=deps.blobs.bucket, Key=upload["upload"]["fields"]["key"], Body=contacts_csv(5))
    # When the expiry check comes due and is handled before the ingest finishes
    pump.advance(PAST_DUE)
    while pump.scheduler.tick() or pump.step("dispatcher"):
        pass
    assert pump.invocations.get("dispatcher", 0) >= 1  # the check was delivered
    # Then the batch is still validating
    assert batch_of(client, key, upload["batch_id"])["status"] == "validating"
    # And the ingest then ends it as a batch
    pump.run()
    batch = batch_of(client, key, upload["batch_id"])
    assert batch["status"] == "created" and batch["valid_contacts"] == 5


def test_a_check_delivered_twice_fails_the_batch_once(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given a presigned upload whose file never arrives, and its expiry check delivered twice
    key, agent_id = tenant
    upload = presign(client, key, {"agent_id": agent_id, "status_webhook": f"{receiver.url}/status"})
    pump.duplicate = lambda name, body: body.get("kind") == "upload_check"
    # When the check comes due
    pump.run(until=lambda: batch_of(client, key, upload["batch_id"])["status"] != "validating", advance_seconds=60)
    first = batch_of(client, key, upload["batch_id"])
    pump.run()
    # Then the batch is failed once: the same reason and time, one `failed` webhook
    batch = batch_of(client, key, upload["batch_id"])
    assert batch["status"] == "failed" and batch["failure_reason"]["code"] == "upload_not_received"
    assert batch["updated_at"] == first["updated_at"]
    assert [e["status"] for e in _status_events(receiver)] == ["validating", "failed"]
