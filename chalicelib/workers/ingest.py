"""Ingest-queue consumer: S3 told us an object arrived under uploads/ or inbox/."""

from __future__ import annotations

from urllib.parse import unquote_plus

from ..domain.messages import IngestNotification
from ..services.container import Dependencies
from ..services.ingest import ingest_object


def handle_notification(deps: Dependencies, body: str) -> None:
    """One S3 notification (possibly several records); S3's own test event is acknowledged and ignored."""
    for raw_key, etag in IngestNotification.model_validate_json(body).created():
        key = unquote_plus(raw_key)  # S3 notifications URL-encode keys
        if key:
            ingest_object(deps, key, etag)
