"""Ingest-queue consumer: S3 told us an object arrived under uploads/ or inbox/."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from ..services.container import Services
from ..services.ingest import ingest_object


def handle_notification(svc: Services, body: str) -> None:
    """One S3 notification (possibly several records); S3's own test event is acknowledged and ignored."""
    message: dict[str, Any] = json.loads(body)
    if message.get("Event") == "s3:TestEvent":
        return
    for record in message.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3", {})
        key = unquote_plus(s3.get("object", {}).get("key", ""))  # S3 notifications URL-encode keys
        if key:
            ingest_object(svc, key, s3.get("object", {}).get("eTag"))
