"""Batch commands (schedule, run, stop, pause, resume, delete) and completion, each a conditional write."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from .. import clock
from ..domain.batch_status import (
    ACTIVE,
    ENDED_EARLY,
    PAUSABLE,
    RESUMABLE,
    RUNNABLE,
    SCHEDULABLE,
    STOPPABLE,
    BatchStatus,
)
from ..domain.calling_rules import CallingRules
from ..domain.messages import ControlMessage
from ..domain.records import Batch
from ..domain.scheduling import parse_scheduled_at
from ..errors import Conflict
from ..resources import CONTROL_QUEUE
from ..store.batches import CO_FOLDED
from ..store.dynamo import Fields
from .budget import check_resumable
from .container import Dependencies
from .purge_walk import start_purge
from .webhooks import emit_batch_event


def schedule_name(batch_id: str) -> str:
    return f"batch-{batch_id}"


def schedule_batch(
    deps: Dependencies,
    tenant_id: str,
    batch_id: str,
    scheduled_at: object,
    *,
    bypass: bool = False,
    rules: CallingRules | None = None,
    max_spend: float | None = None,
) -> Batch:
    """Schedule (or re-schedule) a start; a new token makes any earlier start message stale.

    `bypass` turns on `bypass_call_guardrails` in the same write (it is never turned off here); `rules`
    (the batch's own calling rules) are written in it too, each replacing what the batch had; `max_spend`
    sets the batch's budget in it."""
    deps.batches.get(tenant_id, batch_id)
    now = clock.now()
    start_at = parse_scheduled_at(scheduled_at, now, deps.settings.max_schedule_lead)
    fields: Fields = {"scheduled_at": clock.iso(start_at), "start_token": uuid.uuid4().hex}
    if bypass:
        fields["bypass_call_guardrails"] = True
    if max_spend is not None:
        fields["max_spend"] = max_spend
    if rules is not None:
        fields.update(rules.stored())
    batch = deps.batches.transition(batch_id, SCHEDULABLE, BatchStatus.SCHEDULED, set_fields=fields)
    deliver_start(deps, batch_id, fields["start_token"], start_at)
    return batch


def deliver_start(deps: Dependencies, batch_id: str, token: str, start_at: datetime) -> None:
    """Under 15 minutes: an SQS delay, exact to the second. Later: a one-time Scheduler schedule."""
    message = ControlMessage.start(batch_id, token, clock.iso(start_at))
    deps.scheduler.send_at(CONTROL_QUEUE, message, start_at, schedule_name(batch_id))


def cancel_schedule(deps: Dependencies, batch_id: str) -> None:
    deps.scheduler.cancel(schedule_name(batch_id))


def run_batch(deps: Dependencies, tenant_id: str, batch_id: str) -> Batch:
    deps.batches.get(tenant_id, batch_id)
    now = clock.now()
    token = uuid.uuid4().hex
    batch = deps.batches.transition(
        batch_id, RUNNABLE, BatchStatus.SCHEDULED, set_fields={"scheduled_at": clock.iso(now), "start_token": token}
    )
    deliver_start(deps, batch_id, token, now)
    return batch


def stop_batch(deps: Dependencies, tenant_id: str, batch_id: str) -> Batch:
    """After this returns, no call is claimed: every claim is conditional on the batch running.

    The batch stays in the sweeper's index (`active`) until every contact is accounted for: the
    cancel walk queued here writes a `canceled` execution for each contact never dispatched and
    cancels those still waiting for the dialer.
    """
    read = deps.batches.get(tenant_id, batch_id)
    batch = deps.batches.transition(
        batch_id,
        STOPPABLE,
        BatchStatus.STOPPED,
        set_fields={"stopped_at": clock.now_iso(), "active": "1"},
        shards=read.counter_shards,  # a sharded batch: straight to its transaction (no refused write first)
        co=read.co_key,
    )
    cancel_schedule(deps, batch_id)
    settle(deps, batch)
    return batch


def settle(deps: Dependencies, batch: Batch) -> None:
    """Start the cancel walk of a batch that ended early (stopped, or failed with contacts left).

    Whoever ends a batch early keeps `active` on it (see stop_batch) and calls this.
    """
    deps.queues.send(CONTROL_QUEUE, ControlMessage.cancel(batch.batch_id, int(batch.next_pos or 0)))


def resume_settling(deps: Dependencies, batch: Batch, stall_cutoff: str) -> bool:
    """For the sweeper: re-send a cancel walk whose step died before sending the next one (duplicates
    are harmless), or close a settled batch whose closing was lost. True when a walk was resumed."""
    if batch.settled_at:
        complete_if_done(deps, batch.batch_id)
        return False
    if batch.updated_at >= stall_cutoff:
        return False
    pos = int(batch.next_pos or 0)
    deps.queues.send(CONTROL_QUEUE, ControlMessage.cancel(batch.batch_id, pos, batch.settle_after))
    return True


def pause_batch(deps: Dependencies, tenant_id: str, batch_id: str) -> Batch:
    read = deps.batches.get(tenant_id, batch_id)
    return deps.batches.transition(batch_id, PAUSABLE, BatchStatus.PAUSED, shards=read.counter_shards, co=read.co_key)


def resume_batch(deps: Dependencies, tenant_id: str, batch_id: str, max_spend: float | None = None) -> Batch:
    """A batch that spent its budget resumes only with a higher `max_spend` (409 `budget_reached` otherwise)."""
    read = deps.batches.get(tenant_id, batch_id)
    fields = check_resumable(deps, read, max_spend)
    batch = deps.batches.transition(
        batch_id,
        RESUMABLE,
        BatchStatus.RUNNING,
        set_fields=fields,
        remove_fields=("pause_reason",),
        shards=read.counter_shards,
        co=read.co_key,
    )
    if batch.next_pos < batch.valid_contacts:
        deps.queues.send(CONTROL_QUEUE, ControlMessage.dispatch(batch_id, batch.next_pos))
    complete_if_done(deps, batch_id)
    return batch


def delete_batch(deps: Dependencies, tenant_id: str, batch_id: str) -> None:
    """Stop it (if active), hide it (404 from now on), and purge its data in the background (purge_walk.py)."""
    batch = deps.batches.get(tenant_id, batch_id)
    if BatchStatus(batch.status) in ACTIVE:
        stop_batch(deps, tenant_id, batch_id)
    else:
        cancel_schedule(deps, batch_id)
    if deps.batches.set_fields(batch_id, {"deleted_at": clock.now_iso()}, "attribute_not_exists(deleted_at)"):
        start_purge(deps, batch_id)


def complete_if_done(deps: Dependencies, batch_id: str, read: Batch | None = None) -> bool:
    """Exactly one caller wins the conditional write, however many calls end at the same moment.
    `read`: the batch as the caller read it after its own write (saves reading it again)."""
    batch = read if read is not None else deps.batches.find(batch_id)
    if batch is not None and batch.status == BatchStatus.COMPLETED:
        announce_completion(deps, batch)  # the winner may have died before announcing; ids dedupe
        return False
    if batch is not None and batch.status in ENDED_EARLY:
        return _close_if_accounted(deps, batch)
    if batch is None or batch.status not in (BatchStatus.RUNNING, BatchStatus.PAUSED):
        return False
    if batch.finished < batch.valid_contacts:
        return False
    try:
        batch = deps.batches.transition(
            batch_id,
            (BatchStatus.RUNNING, BatchStatus.PAUSED),
            BatchStatus.COMPLETED,
            # a batch counting on its agent's shards stays in the sweeper's index until it folds them (fold_ended)
            set_fields={"completed_at": clock.now_iso(), **({"active": "1"} if batch.co_key else {})},
            require_finished=True,
            shards=batch.counter_shards,
        )
    except Conflict:  # someone else completed or stopped it first
        return False
    announce_completion(deps, batch)
    return True


def fold_ended(deps: Dependencies, batch: Batch) -> bool:
    """A completed batch none of whose calls can count any more: its counters leave its agent's shards (whose
    size every call of the agent pays for) for its item, which leaves the sweeper's index in the same transaction
    (store/batches.py fold_co). The sweeper's, off the calls' path: the last outcome does not pay for it. True when
    folded now; a refused fold (a late report's tallies landed meanwhile) is tried again by the next sweep."""
    if batch.status != BatchStatus.COMPLETED or not batch.co_key or (batch.model_extra or {}).get(CO_FOLDED):
        return False
    return deps.batches.fold_co(batch.batch_id, batch.co_key)


def _close_if_accounted(deps: Dependencies, batch: Batch) -> bool:
    """A stopped (or failed) batch is over once its cancel walk is done and its last live call ended:
    then every contact's last attempt is final and `execution_status` sums to `valid_contacts`. One whose
    counters are on its agent's shards closes with their fold (fold_co takes it out of the sweeper's index in
    the same transaction), so a refused fold leaves it there for the next sweep to try again."""
    if not batch.settled_at or batch.finished < batch.valid_contacts:
        return False
    if batch.co_key and not (batch.model_extra or {}).get(CO_FOLDED):
        closed = deps.batches.fold_co(batch.batch_id, batch.co_key)  # both conditions above only ever become true
    else:
        closed = deps.batches.close_ended(batch.batch_id)
    if (closed or not batch.active) and batch.status == BatchStatus.STOPPED and not batch.deleted_at:
        emit_batch_event(deps, batch, "stopped")  # again when the closer died before announcing; ids dedupe
    return closed


def announce_completion(deps: Dependencies, batch: Batch) -> None:
    """`completed` when every contact's last attempt reached the phone network; `completed_partial`
    when some ended in `error` (never placed, or never reported) or were `canceled`."""
    counts = batch.execution_status or {}
    partial = any(counts.get(status, 0) for status in ("error", "canceled"))
    emit_batch_event(deps, batch, "completed_partial" if partial else "completed")


def missed_start(batch: Batch, now: datetime, grace: timedelta = timedelta(minutes=2)) -> bool:
    """A scheduled start more than `grace` ago. Arithmetic is on `now`, never on the stored start, so a
    start stored before starts were bounded (year 9999) cannot overflow; an unreadable one is not missed."""
    scheduled = batch.scheduled_at
    if batch.status != BatchStatus.SCHEDULED or not scheduled:
        return False
    try:
        start = clock.parse_iso(str(scheduled))
    except ValueError:
        return False
    return start < now - grace
