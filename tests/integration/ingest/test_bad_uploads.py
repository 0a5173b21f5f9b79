"""Bad files through the big-file doors: a failed batch with the reason (and its status webhook), or a
quarantined drop with a reason file. Never nothing.

moto ignores a presigned POST's policy (and a drop has none), so what S3 would refuse in AWS is
written here straight into the bucket, with the Content-Type the client would have declared.
"""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.domain.contact_reader import MAX_COLUMNS
from chalicelib.services.container import Dependencies
from tests.support.batches import contacts_csv
from tests.support.pump import Pump
from tests.support.uploads import batch_of, keys, presign
from tests.support.webhooks import Receiver

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BAD_FILES = [
    pytest.param(XLSX, b"PK\x03\x04" + b"\x00" * 200, "unsupported_content_type", id="xlsx"),
    pytest.param("application/json", b'{"contacts": []}', "unsupported_content_type", id="json"),
    pytest.param("text/csv", b"", "empty_file", id="empty"),
    pytest.param("text/csv", contacts_csv(300), "file_too_large", id="over-size"),
    pytest.param("text/csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not_text", id="binary"),
    pytest.param("text/csv", b"name,city\nAsha,Pune\n", "no_number_column", id="no-number-column"),
    pytest.param("text/csv", b"phone," + b"c," * (MAX_COLUMNS + 1) + b"\n", "too_many_columns", id="too-wide"),
    pytest.param("text/csv", b"phone,bad\x01name\n+12025550100,a\n", "invalid_header", id="bad-header"),
    pytest.param("text/csv", contacts_csv(6), "too_many_rows", id="too-many-rows"),
]


@pytest.fixture
def limited(hooks: Dependencies) -> Dependencies:
    """Small limits, so `over-size` and `too-many-rows` need small files."""
    hooks.settings = hooks.settings.model_copy(update={"max_upload_bytes": 4096, "max_rows": 5})
    return hooks


@pytest.mark.parametrize(("content_type", "body", "code"), BAD_FILES)
def test_a_bad_presigned_upload_fails_its_batch_and_says_why(
    client: Client,
    tenant: tuple[str, str],
    limited: Dependencies,
    pump: Pump,
    receiver: Receiver,
    content_type: str,
    body: bytes,
    code: str,
) -> None:
    # Given a presigned upload with a status webhook
    key, agent_id = tenant
    upload = presign(client, key, {"agent_id": agent_id, "status_webhook": f"{receiver.url}/status"})
    # When a bad file arrives under its key
    object_key = upload["upload"]["fields"]["key"]
    aws.s3().put_object(Bucket=limited.blobs.bucket, Key=object_key, Body=body, ContentType=content_type)
    pump.run()
    # Then the batch is failed with the reason's code and a message
    batch = batch_of(client, key, upload["batch_id"])
    assert batch["status"] == "failed"
    assert batch["failure_reason"]["code"] == code and batch["failure_reason"]["message"]
    # And the status webhook announced validating, then failed with the same reason
    events = [r.payload for r in receiver.received if r.path == "/status" and r.nth == 1]
    assert [e["status"] for e in events] == ["validating", "failed"]
    assert events[-1]["reason"] == code


@pytest.mark.parametrize(("content_type", "body", "code"), BAD_FILES)
def test_a_bad_drop_is_quarantined_with_the_reason(
    tenant: tuple[str, str], limited: Dependencies, pump: Pump, content_type: str, body: bytes, code: str
) -> None:
    # Given a drop-folder file that cannot become a batch
    _, agent_id = tenant
    bucket = limited.blobs.bucket
    aws.s3().put_object(Bucket=bucket, Key=f"inbox/{agent_id}/bad.csv", Body=body, ContentType=content_type)
    # When the ingest handler has seen it
    pump.run()
    # Then it moved to quarantine/ with a reason file naming the code, and left the inbox
    assert keys(limited, "quarantine/") == [
        f"quarantine/inbox/{agent_id}/bad.csv",
        f"quarantine/inbox/{agent_id}/bad.csv.reason.json",
    ]
    reason = json.loads(
        aws.s3().get_object(Bucket=bucket, Key=f"quarantine/inbox/{agent_id}/bad.csv.reason.json")["Body"].read()
    )
    assert reason["reason"].startswith(f"{code}: ") and reason["key"] == f"inbox/{agent_id}/bad.csv"
    assert keys(limited, "inbox/") == []


@pytest.mark.parametrize(
    ("sidecar", "expected"),
    [
        pytest.param(b"{not json", "bad sidecar", id="bad-json"),
        pytest.param(b'["a list"]', "JSON object", id="not-an-object"),
        pytest.param(b"\xff\xfe{}", "bad sidecar", id="not-utf8"),
        pytest.param(json.dumps({"retry_config": {"max_retries": 9}}).encode(), "max_retries", id="invalid-option"),
        pytest.param(json.dumps({"scheduled_at": "2020-01-01T00:00:00"}).encode(), "bad sidecar", id="naive-time"),
        pytest.param(json.dumps({"status_webhook": "http://169.254.169.254/"}).encode(), "status_webhook", id="ssrf"),
        pytest.param(
            json.dumps({"scheduled_at": "9999-12-31T23:59:59Z"}).encode(), "MAX_SCHEDULE_LEAD_DAYS", id="far-future"
        ),
        pytest.param(
            json.dumps({"scheduled_at": "9999-12-31T23:59:59-05:00"}).encode(), "scheduled_at", id="unrepresentable"
        ),
    ],
)
def test_a_drop_with_an_unusable_sidecar_is_quarantined_with_the_reason(
    tenant: tuple[str, str], deps: Dependencies, pump: Pump, sidecar: bytes, expected: str
) -> None:
    # Given a good CSV whose sidecar of batch options is unusable
    _, agent_id = tenant
    bucket = deps.blobs.bucket
    aws.s3().put_object(Bucket=bucket, Key=f"inbox/{agent_id}/x.json", Body=sidecar)
    aws.s3().put_object(Bucket=bucket, Key=f"inbox/{agent_id}/x.csv", Body=contacts_csv(2))
    # When it is ingested
    pump.run()
    # Then the CSV is quarantined, the reason names the sidecar's problem, and no batch was made
    reason = json.loads(
        aws.s3().get_object(Bucket=bucket, Key=f"quarantine/inbox/{agent_id}/x.csv.reason.json")["Body"].read()
    )
    assert expected in reason["reason"]
    assert deps.batches.list_for_agent("tenant-a", agent_id) == []


def test_an_upload_for_an_agent_deleted_after_presigning_still_ends_as_a_batch_or_failure(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a presigned upload whose agent is then deleted (the API refuses it while the batch is
    # validating, so straight from the store: a race, or data from before deletes were refused)
    key, agent_id = tenant
    upload = presign(client, key, {"agent_id": agent_id})
    assert client.http.delete(f"/agents/{agent_id}", headers={"Authorization": f"Bearer {key}"}).status_code == 409
    deps.agents.delete("tenant-a", agent_id)
    # When the file arrives
    aws.s3().put_object(
        Bucket=deps.blobs.bucket, Key=upload["upload"]["fields"]["key"], Body=contacts_csv(3), ContentType="text/csv"
    )
    pump.run()
    # Then the batch left `validating`: it never waits for ever
    assert batch_of(client, key, upload["batch_id"])["status"] in ("created", "failed")


NO_CALLABLE_ROW = b"phone,name\n,Ann\n12345,Bob\n"


def test_an_upload_with_no_callable_row_fails_with_the_rows_and_why(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a presigned upload whose rows have a blank and an invalid number
    key, agent_id = tenant
    upload = presign(client, key, {"agent_id": agent_id})
    aws.s3().put_object(Bucket=deps.blobs.bucket, Key=upload["upload"]["fields"]["key"], Body=NO_CALLABLE_ROW)
    # When it is ingested
    pump.run()
    # Then failure_reason says "missing number" and lists the rows with their reasons
    reason = batch_of(client, key, upload["batch_id"])["failure_reason"]
    assert reason["code"] == "no_valid_contacts" and "1 invalid number, 1 missing number" in reason["message"]
    assert [(d["row"], d["reason"], d["value"]) for d in reason["details"]] == [
        (2, "missing_number", ""),
        (3, "invalid_number", "12345"),
    ]
    # And the errors report of the failed batch has the same rows
    auth = {"Authorization": f"Bearer {key}"}
    errors = json.loads(client.http.get(f"/batches/{upload['batch_id']}/errors", headers=auth).body)
    assert errors == reason["details"]


def test_a_drop_with_no_callable_row_is_quarantined_with_the_rows_and_why(
    tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    _, agent_id = tenant
    bucket = deps.blobs.bucket
    aws.s3().put_object(Bucket=bucket, Key=f"inbox/{agent_id}/none.csv", Body=NO_CALLABLE_ROW)
    pump.run()
    reason = json.loads(
        aws.s3().get_object(Bucket=bucket, Key=f"quarantine/inbox/{agent_id}/none.csv.reason.json")["Body"].read()
    )
    assert reason["reason"].startswith("no_valid_contacts: ")
    assert [(d["row"], d["reason"]) for d in reason["details"]] == [(2, "missing_number"), (3, "invalid_number")]
