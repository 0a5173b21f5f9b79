"""The purge of a deleted batch, on the control queue in bounded, idempotent steps.

`DELETE /batches/{id}` stops the batch (as before) and starts this walk. Phase `executions` deletes
the batch's executions page by page, leaving calls still live (a provider owes their outcome and
they hold a live-call slot): once a pass ends with some left, a new pass starts a minute later,
until none is left. Then `deliveries` (the webhook delivery log and event states) and `objects`
(contact chunks, row errors, the raw file, exports, a drop's sidecar and quarantine copy) go, and
the batch item stays as a tombstone with `purged_at`. Each step carries its position in its
message; a repeated step deletes nothing twice and a lost one is redelivered by SQS (its handler
failed), so no state on the batch is needed.
"""

from __future__ import annotations

from ..domain.call_status import CallStatus
from ..domain.messages import ControlMessage
from ..domain.records import Batch
from ..observability import logger
from ..resources import CONTROL_QUEUE, EXPORTS_PREFIX, INBOX_PREFIX, QUARANTINE_PREFIX
from ..store.batches import CO_FOLDED
from ..store.executions import BY_BATCH
from .container import Dependencies

PURGE_PAGE = 100  # executions read per step
DELIVERIES_PAGE = 500  # delivery rows deleted per step
LIVE_RECHECK_SECONDS = 60  # a pass that left live calls starts again after this
LIVE = frozenset({CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS})


def start_purge(deps: Dependencies, batch_id: str) -> None:
    deps.queues.send(CONTROL_QUEUE, ControlMessage.purge(batch_id, "executions"))


def purge_step(deps: Dependencies, batch_id: str, phase: str | None, after: str | None) -> None:
    batch = deps.batches.find(batch_id)
    if batch is None or not batch.deleted_at or batch.purged_at:
        return  # not deleted (never purge a live batch), or done already
    if phase == "executions":
        _executions_step(deps, batch, after)
    elif phase == "deliveries":
        if deps.deliveries.delete_some(batch_id, DELIVERIES_PAGE):
            deps.queues.send(CONTROL_QUEUE, ControlMessage.purge(batch_id, "deliveries"))
        else:
            deps.queues.send(CONTROL_QUEUE, ControlMessage.purge(batch_id, "objects"))
    elif phase == "objects":
        if _objects_step(deps, batch):
            deps.queues.send(CONTROL_QUEUE, ControlMessage.purge(batch_id, "objects"))
        elif deps.batches.mark_purged(batch_id):
            logger.info("batch purged", extra={"batch_id": batch_id})


def _executions_step(deps: Dependencies, batch: Batch, after: str | None) -> None:
    batch_id = batch.batch_id
    page, last = deps.executions.page_after(BY_BATCH, "batch_id", batch_id, "seq", after, PURGE_PAGE)
    deps.executions.delete_many([e.execution_id for e in page if e.status not in LIVE])
    if last is not None:
        deps.queues.send(CONTROL_QUEUE, ControlMessage.purge(batch_id, "executions", last))
        return
    left, _ = deps.executions.page_after(BY_BATCH, "batch_id", batch_id, "seq", None, 1)
    if left or not _off_agent_shards(deps, batch):  # live calls (or a step that raced the stop), or a refused fold:
        deps.queues.send(CONTROL_QUEUE, ControlMessage.purge(batch_id, "executions"), LIVE_RECHECK_SECONDS)
        return  # look again once they may have ended
    deps.queues.send(CONTROL_QUEUE, ControlMessage.purge(batch_id, "deliveries"))


def _off_agent_shards(deps: Dependencies, batch: Batch) -> bool:
    """A deleted batch that counted on its agent's live-call shards has its counters folded off them once none of
    its executions is left (no call of it can count there any more; its cancel walk closed it without a fold), so
    they do not stay in items every call of the agent writes. True when none are left there."""
    if not batch.co_key or (batch.model_extra or {}).get(CO_FOLDED):
        return True
    return deps.batches.fold_co(batch.batch_id, batch.co_key)


def _objects_step(deps: Dependencies, batch: Batch) -> bool:
    """Delete up to 1,000 objects under each of the batch's prefixes, and its single files; True if more remain."""
    batch_id, tenant_id = batch.batch_id, batch.tenant_id
    more = False
    for prefix in (f"batches/{batch_id}/", f"{EXPORTS_PREFIX}{tenant_id}/{batch_id}/"):
        more = deps.blobs.delete_prefix(prefix) or more
    raw = batch.raw_key
    if raw:  # a presigned upload's file, or a drop (with its sidecar, and its quarantined copy)
        keys = [raw, QUARANTINE_PREFIX + raw, QUARANTINE_PREFIX + raw + ".reason.json"]
        if raw.startswith(INBOX_PREFIX) and raw.lower().endswith(".csv"):
            keys.append(raw[:-4] + ".json")
        deps.blobs.delete_keys(keys)
    return more
