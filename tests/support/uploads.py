"""Helpers for the upload tests: presign an upload, read the batch back, list the bucket's keys."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from chalicelib import aws
from chalicelib.services.container import Dependencies


def presign(client: Client, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.http.post(
        "/batches/uploads",
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.body
    return dict(json.loads(response.body))


def batch_of(client: Client, key: str, batch_id: str) -> dict[str, Any]:
    return dict(json.loads(client.http.get(f"/batches/{batch_id}", headers={"Authorization": f"Bearer {key}"}).body))


def keys(deps: Dependencies, prefix: str) -> list[str]:
    listed = aws.s3().list_objects_v2(Bucket=deps.blobs.bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))
