"""Big-file doors on the local stack: a presigned POST with a plain HTTP client, and the S3 drop folder."""

from __future__ import annotations

from typing import Any

import requests

from chalicelib import aws
from chalicelib.resources import bucket_name
from chalicelib.settings import get_settings
from tests.support.e2e import wait_until


def csv_rows(n: int) -> bytes:
    return ("contact_number,customer_name\n" + "".join(f"+1202555{200 + i:04d},N{i}\n" for i in range(n))).encode()


def test_presigned_upload_runs_to_completion(stack: Any, http: requests.Session) -> None:
    url = stack.api_url
    # Given a presigned upload with the start asked for in the same request
    created = http.post(f"{url}/batches/uploads", json={"agent_id": stack.agent_id, "name": "presigned"}, timeout=30)
    assert created.status_code == 201, created.text
    upload = created.json()
    # When the file is POSTed straight to S3 with a plain HTTP client (no AWS SDK, no API key)
    posted = requests.post(
        upload["upload"]["url"], data=upload["upload"]["fields"], files={"file": ("c.csv", csv_rows(12))}, timeout=30
    )
    assert posted.status_code in (200, 201, 204), posted.text
    batch_id = upload["batch_id"]
    wait_until(lambda: http.get(f"{url}/batches/{batch_id}", timeout=30).json()["status"] == "created", 30, "ingest")
    # Then the batch exists with its counts, and runs to completion
    assert http.get(f"{url}/batches/{batch_id}", timeout=30).json()["valid_contacts"] == 12
    http.post(f"{url}/batches/{batch_id}/run", timeout=30).raise_for_status()
    wait_until(lambda: http.get(f"{url}/batches/{batch_id}", timeout=30).json()["status"] == "completed", 120, "run")
    assert len(http.get(f"{url}/batches/{batch_id}/executions", timeout=30).json()) == 12
    # And its CSV export, over the inline limit, is a 303 to a presigned S3 URL that a plain client follows
    redirect = http.get(f"{url}/batches/{batch_id}/executions.csv", timeout=30, allow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["Location"] == redirect.json()["url"]
    fetched = requests.get(redirect.headers["Location"], timeout=30)
    assert fetched.status_code == 200, fetched.text
    lines = fetched.text.splitlines()
    assert lines[0].startswith("contact_number,customer_name,status") and len(lines) == 13
    assert http.get(f"{url}/batches/{batch_id}/executions.csv", timeout=30).content == fetched.content  # followed


def test_a_file_dropped_in_the_inbox_becomes_a_batch(stack: Any, http: requests.Session) -> None:
    bucket = bucket_name(get_settings())
    aws.s3().put_object(Bucket=bucket, Key=f"inbox/{stack.agent_id}/dropped.csv", Body=csv_rows(5))

    def dropped() -> list[dict[str, Any]]:
        batches = http.get(f"{stack.api_url}/batches/{stack.agent_id}/all", timeout=30).json()
        return [b for b in batches if b["file_name"] == "dropped.csv" and b["status"] == "created"]

    wait_until(lambda: bool(dropped()), 30, "the dropped file's batch")
    assert dropped()[0]["valid_contacts"] == 5
