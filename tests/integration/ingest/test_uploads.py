"""Presigned uploads and the S3 drop folder: every file ends as a batch or in quarantine with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from chalice.test import Client

from chalicelib import aws
from chalicelib.services.container import Dependencies
from tests.support.batches import contacts_csv
from tests.support.pump import Pump
from tests.support.uploads import batch_of, keys, presign


def test_presigned_upload_becomes_a_batch_once(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a presigned upload asked for with batch options
    key, agent_id = tenant
    upload = presign(client, key, {"agent_id": agent_id, "name": "big one"})
    assert upload["state"] == "validating"
    assert upload["upload"]["fields"]["key"].endswith(f"/{upload['batch_id']}.csv")
    assert batch_of(client, key, upload["batch_id"])["status"] == "validating"
    # When the file arrives in the bucket (S3 notifies the ingest queue), twice
    aws.s3().put_object(Bucket=deps.blobs.bucket, Key=upload["upload"]["fields"]["key"], Body=contacts_csv(40))
    pump.duplicate = lambda name, body: name == "ingest"
    pump.run()
    # Then the batch is created with its counts and options, once
    batch = batch_of(client, key, upload["batch_id"])
    assert batch["status"] == "created" and batch["valid_contacts"] == 40 and batch["name"] == "big one"
    assert len(deps.batches.list_for_agent("tenant-a", agent_id)) == 1


def test_an_unusable_upload_fails_the_batch_with_the_reason(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    key, agent_id = tenant
    for content, code in ((b"name\nAsha\n", "no_number_column"), (b"\x00\x01\x02binary" * 50, "not_text")):
        upload = presign(client, key, {"agent_id": agent_id})
        aws.s3().put_object(Bucket=deps.blobs.bucket, Key=upload["upload"]["fields"]["key"], Body=content)
        pump.run()
        batch = batch_of(client, key, upload["batch_id"])
        assert batch["status"] == "failed"
        assert batch["failure_reason"]["code"] == code


def test_presign_refuses_unknown_agents_and_bad_options(client: Client, tenant: tuple[str, str]) -> None:
    key, _ = tenant
    for body, status in (({"agent_id": "nope"}, 404), ({"agent_id": "x", "retry_config": "{"}, 400), ({}, 400)):
        response = client.http.post(
            "/batches/uploads",
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        assert response.status_code == status, response.body


def test_inbox_drop_with_a_sidecar_creates_and_schedules_a_batch_for_the_agents_tenant(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    key, agent_id = tenant
    start = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT10:00:00")
    aws.s3().put_object(
        Bucket=deps.blobs.bucket,
        Key=f"inbox/{agent_id}/spring.json",
        Body=json.dumps({"name": "spring", "scheduled_at": start + "Z"}).encode(),
    )
    aws.s3().put_object(Bucket=deps.blobs.bucket, Key=f"inbox/{agent_id}/spring.csv", Body=contacts_csv(3))
    pump.run()
    [batch] = json.loads(client.http.get(f"/batches/{agent_id}/all", headers={"Authorization": f"Bearer {key}"}).body)
    assert batch["name"] == "spring" and batch["valid_contacts"] == 3
    assert batch["status"] == "scheduled" and batch["scheduled_at"].startswith(start)
    assert batch["file_name"] == "spring.csv"


def test_inbox_files_that_cannot_become_batches_are_quarantined_with_a_reason(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    _, agent_id = tenant
    bucket = deps.blobs.bucket
    aws.s3().put_object(Bucket=bucket, Key="inbox/no-such-agent/a.csv", Body=contacts_csv(2))
    aws.s3().put_object(Bucket=bucket, Key=f"inbox/{agent_id}/b.json", Body=b"{not json")
    aws.s3().put_object(Bucket=bucket, Key=f"inbox/{agent_id}/b.csv", Body=contacts_csv(2))
    aws.s3().put_object(Bucket=bucket, Key=f"inbox/{agent_id}/c.csv", Body=b"")
    aws.s3().put_object(Bucket=bucket, Key=f"inbox/{agent_id}/d.xlsx", Body=b"PK\x03\x04")
    pump.run()
    quarantined = keys(deps, "quarantine/")
    for name in (
        "inbox/no-such-agent/a.csv",
        f"inbox/{agent_id}/b.csv",
        f"inbox/{agent_id}/c.csv",
        f"inbox/{agent_id}/d.xlsx",
    ):
        assert f"quarantine/{name}" in quarantined and f"quarantine/{name}.reason.json" in quarantined
    reasons = {
        k: json.loads(aws.s3().get_object(Bucket=bucket, Key=k)["Body"].read())["reason"]
        for k in quarantined
        if k.endswith(".reason.json")
    }
    assert "no agent" in reasons["quarantine/inbox/no-such-agent/a.csv.reason.json"]
    assert "sidecar" in reasons[f"quarantine/inbox/{agent_id}/b.csv.reason.json"]
    assert "empty_file" in reasons[f"quarantine/inbox/{agent_id}/c.csv.reason.json"]
    assert [k for k in keys(deps, "inbox/") if k.endswith((".csv", ".xlsx"))] == []


def test_an_upload_warns_about_a_number_whose_extension_is_dropped(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a presigned upload with a number written with an extension
    key, agent_id = tenant
    upload = presign(client, key, {"agent_id": agent_id})
    body = b"phone\n+12025550123\n+12025550124 ext. 23\n"
    aws.s3().put_object(Bucket=deps.blobs.bucket, Key=upload["upload"]["fields"]["key"], Body=body)
    # When it is ingested
    pump.run()
    # Then both contacts are kept and the batch warns about row 3
    batch = batch_of(client, key, upload["batch_id"])
    assert batch["status"] == "created" and batch["valid_contacts"] == 2
    [warning] = [w for w in batch["warnings"] if w["code"] == "number_extension_dropped"]
    assert warning["rows"] == [3]
