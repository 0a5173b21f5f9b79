"""GET /batches/{id}/executions.csv: inline when small; large exports are streamed to S3 and redirected to."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
import requests
from chalice.test import Client

from chalicelib import aws
from chalicelib.services import exports
from chalicelib.services.container import Dependencies
from tests.support.api import post_csv
from tests.support.batches import is_completed
from tests.support.pump import Pump

ROWS = 12
CSV = (
    "contact_number,customer_name,note\n" + "".join(f"+1202555{100 + i:04d},Name{i},=1+2\n" for i in range(ROWS))
).encode()


@pytest.fixture
def finished(client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump) -> tuple[str, dict[str, str]]:
    """A batch of 12 contacts (with a formula in every row) that ran to completion."""
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}"}
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, CSV).body)["batch_id"]
    assert client.http.post(f"/batches/{batch_id}/run", headers=auth).status_code == 200
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    return batch_id, auth


def inline_export(client: Client, batch_id: str, auth: dict[str, str]) -> bytes:
    response = client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth)
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("text/csv")
    return bytes(response.body)


def exported_objects(deps: Dependencies) -> list[str]:
    listed = aws.s3().list_objects_v2(Bucket=deps.blobs.bucket, Prefix="exports/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_a_small_export_is_inline_and_escapes_formulas(
    client: Client, deps: Dependencies, finished: tuple[str, dict[str, str]]
) -> None:
    # Given a finished batch under the inline limit
    batch_id, auth = finished
    # When its CSV is asked for
    lines = inline_export(client, batch_id, auth).decode().splitlines()
    # Then it comes in the body, one row per execution, formulas neutralised, and nothing went to S3
    assert len(lines) == ROWS + 1
    assert all(",'=1+2" in line for line in lines[1:])
    assert exported_objects(deps) == []


@pytest.mark.parametrize("part_bytes", [exports.PART_BYTES, 512], ids=["one-put", "multipart"])
def test_a_large_export_redirects_to_a_presigned_url_with_the_same_csv(
    client: Client,
    deps: Dependencies,
    finished: tuple[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    part_bytes: int,
) -> None:
    # Given the same batch's inline CSV, and then an inline limit below its size (and, for multipart, tiny parts)
    batch_id, auth = finished
    inline = inline_export(client, batch_id, auth)
    deps.settings = deps.settings.model_copy(update={"export_inline_max_rows": ROWS - 1})
    monkeypatch.setattr(exports, "PART_BYTES", part_bytes)
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 256)
    # When the CSV is asked for
    response = client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth)
    # Then the answer is 303 See Other to a presigned GET of an object under exports/<tenant>/<batch>/
    assert response.status_code == 303, response.body
    location = response.headers["Location"]
    assert json.loads(response.body)["url"] == location
    [stored] = exported_objects(deps)
    assert stored.startswith(f"exports/tenant-a/{batch_id}/") and stored.endswith(".csv")
    assert urlparse(location).path.endswith("/" + stored)
    assert "X-Amz-Signature" in location or "Signature=" in location
    # And following it (no API key, as `curl -L` would) gives exactly the inline CSV
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == inline
    head = aws.s3().head_object(Bucket=deps.blobs.bucket, Key=stored)
    assert head["ContentType"].startswith("text/csv") and batch_id in head["ContentDisposition"]


def test_another_tenant_gets_404_and_nothing_is_written(
    client: Client, deps: Dependencies, finished: tuple[str, dict[str, str]], other_tenant: tuple[str, str]
) -> None:
    # Given a large-export setting and another tenant's key
    batch_id, _ = finished
    deps.settings = deps.settings.model_copy(update={"export_inline_max_rows": 0})
    other_key, _ = other_tenant
    # When the other tenant asks for the batch's CSV
    response = client.http.get(f"/batches/{batch_id}/executions.csv", headers={"Authorization": f"Bearer {other_key}"})
    # Then it is a 404 as for any unknown batch, and no export was made
    assert response.status_code == 404
    assert exported_objects(deps) == []


def test_a_failure_mid_export_aborts_the_multipart_upload(
    client: Client, deps: Dependencies, finished: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given tiny parts and an execution store that breaks after a few rows
    batch_id, _ = finished
    monkeypatch.setattr(exports, "PART_BYTES", 256)
    real = deps.executions.iter_batch

    def breaking(batch: str):  # type: ignore[no-untyped-def]
        for index, item in enumerate(real(batch)):
            if index == 8:
                raise RuntimeError("DynamoDB went away")
            yield item

    monkeypatch.setattr(deps.executions, "iter_batch", breaking)
    # When the export is asked for
    with pytest.raises(RuntimeError):
        exports.executions_csv(deps, "tenant-a", batch_id)
    # Then no multipart upload is left open and no object exists
    assert aws.s3().list_multipart_uploads(Bucket=deps.blobs.bucket).get("Uploads", []) == []
    assert exported_objects(deps) == []


def test_a_very_large_batch_is_exported_in_the_background_then_redirected_to(
    client: Client, deps: Dependencies, pump: Pump, finished: tuple[str, dict[str, str]]
) -> None:
    # Given a batch above the size API Gateway's 29 s allow to export within the request
    batch_id, auth = finished
    inline = inline_export(client, batch_id, auth)
    deps.settings = deps.settings.model_copy(update={"export_sync_max_rows": ROWS - 1})
    # When its CSV is asked for, twice
    first = client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth)
    again = client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth)
    # Then both answer 202 preparing (poll again), and one export job was queued, not two
    assert (first.status_code, again.status_code) == (202, 202), first.body
    assert json.loads(first.body)["state"] == "preparing" and first.headers["Retry-After"] == "5"
    assert json.loads(again.body)["since"] == json.loads(first.body)["since"]
    pump.duplicate = lambda name, body: name == "exporter"  # and SQS delivers it twice
    pump.run()
    assert pump.invocations["exporter"] == 1
    # And once the exporter ran, the answer is 303 to a presigned URL of exactly the CSV
    done = client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth)
    assert done.status_code == 303, done.body
    assert requests.get(done.headers["Location"], timeout=10).content == inline
    # And it stays served (the batch is finished: nothing newer to export)
    assert client.http.get(f"/batches/{batch_id}/executions.csv", headers=auth).status_code == 303


def test_two_requests_racing_to_start_a_background_export_queue_one_job(
    deps: Dependencies, pump: Pump, finished: tuple[str, dict[str, str]]
) -> None:
    # Given two API requests that both read the batch before either started an export
    batch_id, _ = finished
    deps.settings = deps.settings.model_copy(update={"export_sync_max_rows": ROWS - 1})
    seen_by_both = deps.batches.get("tenant-a", batch_id)
    # When both try to start one
    first = exports._in_background(deps, seen_by_both)
    second = exports._in_background(deps, seen_by_both)
    # Then both answer preparing, and only the first queued a job
    assert first.preparing and second.preparing
    pump.run()
    assert pump.invocations["exporter"] == 1
