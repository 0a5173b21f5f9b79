"""The cancel walk of a batch that ended early (stopped, or failed), in the dispatch walk's bounded steps.

First a `canceled` execution for every contact never dispatched (the ids dispatch would have used,
so nothing is written twice), then every execution still waiting for the dialer is canceled. Then
every contact is accounted for, and the batch is closed.
"""

from __future__ import annotations

from .. import clock
from ..domain.batch_status import ENDED_EARLY, BatchStatus
from ..domain.call_status import CallStatus
from ..domain.messages import ControlMessage
from ..domain.records import Batch, Execution, StoredContact
from ..resources import CONTROL_QUEUE
from ..store.executions import WAITING, StaleTransition
from .attempt_end import finish_call
from .container import Dependencies
from .dispatch import MAX_STEP, TRANSACTION_ITEMS, first_attempts, read_contacts
from .lifecycle import complete_if_done

CANCEL_PAGE = 200  # executions read per step of the cancel walk
UNREACHED_REASON = {
    BatchStatus.STOPPED: "the batch was stopped before this contact was dialled",
    BatchStatus.FAILED: "the batch failed before this contact was dialled",
}
WAITING_REASON = {
    BatchStatus.STOPPED: "the batch was stopped before this call was placed",
    BatchStatus.FAILED: "the batch failed before this call was placed",
}


def cancel_step(deps: Dependencies, batch_id: str, pos: int, after: str | None) -> None:
    """One bounded step of an ended batch's cancel walk; a redelivered or overtaken step does nothing twice."""
    batch = deps.batches.find(batch_id)
    if batch is None or batch.status not in ENDED_EARLY or batch.settled_at or not batch.active:
        return
    if batch.deleted_at:  # nobody can see it any more: stop walking
        deps.batches.mark_settled(batch_id)
        deps.batches.close_ended(batch_id, require_finished=False)
        return
    if pos < batch.valid_contacts:
        _unreached_step(deps, batch, pos)
    elif batch.settle_after == after:  # else a duplicate step
        _waiting_step(deps, batch, after)


def _unreached_step(deps: Dependencies, batch: Batch, pos: int) -> None:
    """The contacts never dispatched, from `pos`: one `canceled` execution each."""
    if batch.next_pos != pos:
        return  # a duplicate step: the step at next_pos is, or was, handled by another message
    batch_id, total = batch.batch_id, batch.valid_contacts
    contacts = read_contacts(deps, batch, pos, min(total - pos, MAX_STEP))
    _write_unreached(deps, batch, contacts)
    to_pos = pos + len(contacts) if contacts else total
    if deps.batches.advance(batch_id, pos, to_pos, BatchStatus(batch.status)):
        deps.queues.send(CONTROL_QUEUE, ControlMessage.cancel(batch_id, to_pos))


def _waiting_step(deps: Dependencies, batch: Batch, after: str | None) -> None:
    """The executions still waiting for the dialer, one page after seq `after`; the batch is closed after the last."""
    batch_id = batch.batch_id
    waiting, last = deps.executions.waiting_page(batch_id, after, CANCEL_PAGE)
    for execution in waiting:
        _cancel_waiting(deps, execution, WAITING_REASON[batch.status])
    if last is not None:
        if deps.batches.advance_settling(batch_id, after, last):
            deps.queues.send(CONTROL_QUEUE, ControlMessage.cancel(batch_id, batch.valid_contacts, last))
        return
    deps.batches.mark_settled(batch_id)
    complete_if_done(deps, batch_id)


def _write_unreached(deps: Dependencies, batch: Batch, contacts: list[StoredContact]) -> None:
    """A `canceled` execution per contact never dispatched, counted on the batch in the same transaction."""
    now = clock.now_iso()
    reason = {"status": CallStatus.CANCELED, "error_message": UNREACHED_REASON[batch.status], "ended_at": now}
    for start in range(0, len(contacts), TRANSACTION_ITEMS):
        batch_contacts = contacts[start : start + TRANSACTION_ITEMS]
        executions = [e.model_copy(update=reason) for e in first_attempts(batch, batch_contacts, now)]
        deps.executions.create_absent(batch.batch_id, executions, unreached=True)


def _cancel_waiting(deps: Dependencies, execution: Execution, reason: str) -> None:
    """Cancel an execution not yet claimed (no claim can succeed once the batch stopped); it may move
    meanwhile (the dialer reschedules it, or cancels it itself), so re-read and decide again."""
    for _ in range(3):
        try:
            finish_call(deps, execution, "canceled", {"error_message": reason})
            return
        except StaleTransition:
            found = deps.executions.find(execution.execution_id)
            if found is None or found.status not in WAITING:
                return
            execution = found
