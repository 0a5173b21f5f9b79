"""A presigned upload whose file never arrives: its batch is failed, not left `validating` forever.

At presign time a check is sent for the URL's expiry plus a grace period (an upload started just
before expiry may still be in flight). The check fails the batch only if it is still `validating`
and its file is not in the bucket: a file that arrived is being ingested, however long that takes.
The transition is conditional, so a redelivered check changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import clock
from ..domain.arrival import early_until
from ..domain.batch_status import BatchStatus
from ..domain.messages import ControlMessage
from ..errors import Conflict
from ..resources import CONTROL_QUEUE
from .container import Dependencies
from .webhooks import emit_batch_event

UPLOAD_GRACE = timedelta(minutes=5)
NOT_RECEIVED = "upload_not_received"


def schedule_upload_check(deps: Dependencies, batch_id: str, expires_at: datetime) -> None:
    due = expires_at + UPLOAD_GRACE
    message = ControlMessage.upload_check(batch_id, clock.iso(due))
    deps.scheduler.send_at(CONTROL_QUEUE, message, due, f"upload-{batch_id}")


def check_upload(deps: Dependencies, message: ControlMessage) -> None:
    """The control queue's `upload_check`: fail the batch with `upload_not_received` if no file came."""
    now = clock.now()
    due = early_until(message.start_at, now, timedelta(0))
    if due is not None:  # the Scheduler fires on the minute: wait out the rest
        deps.queues.send(CONTROL_QUEUE, message.again(), int((due - now).total_seconds() + 0.999))
        return
    batch = deps.batches.find(message.batch_id)
    if batch is None or batch.deleted_at or batch.status != BatchStatus.VALIDATING:
        return  # ingested, failed, deleted, or this check was delivered before
    if batch.raw_key and deps.blobs.exists(batch.raw_key):
        return  # the file arrived: its ingest holds the batch in `validating` and ends it
    text = "no file was uploaded before the presigned upload expired; ask for a new upload (POST /batches/uploads)"
    try:
        failed = deps.batches.transition(
            message.batch_id,
            (BatchStatus.VALIDATING,),
            BatchStatus.FAILED,
            set_fields={"failure_reason": {"code": NOT_RECEIVED, "message": text, "details": []}},
        )
    except Conflict:
        return  # the file's ingest (or a delete) got there first
    emit_batch_event(deps, failed, "failed", {"reason": NOT_RECEIVED, "message": text})
