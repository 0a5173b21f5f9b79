"""Control-queue consumer: starts a batch and feeds the dial queue one bounded step at a time.

Each step reads one slice of the normalized contacts, writes their executions (all or
nothing, counted on the batch in the same transaction), sends their dial messages and
then a message for the next step, so no invocation grows with the batch. A step waits
while the dial backlog is above the batch's capacity, which is what lets a stop or a
pause take effect at once.

A batch that ends early (stopped, or failed) gets a cancel walk on the same queue, in the same
bounded steps: a `canceled` execution for every contact never dispatched (the ids dispatch would
have used, so nothing is written twice), then every execution still waiting for the dialer is
canceled. Then every contact is accounted for, and the batch is closed.
"""

from __future__ import annotations

from typing import Any

from .. import clock
from ..domain.batch_status import ENDED_EARLY, STARTABLE, BatchStatus
from ..domain.caller_id import pick_caller_id
from ..domain.messages import ControlMessage, DialMessage
from ..errors import Conflict, NotFound
from ..observability import logger
from ..resources import CONTROL_QUEUE, DIAL_QUEUE
from ..services.calls import finish_call
from ..services.container import Services
from ..services.ingest import execution_id
from ..services.lifecycle import complete_if_done, stop_batch
from ..services.webhooks import emit_batch_event
from ..store.executions import WAITING, BatchNotRunning, StaleTransition

TRANSACTION_ITEMS = 99  # DynamoDB's 100 per transaction, less the batch counter update
MAX_STEP = 2 * TRANSACTION_ITEMS  # contacts per step: a step's time and memory never grow with the batch
MAX_WAIT_SECONDS = 30
CANCEL_PAGE = 200  # executions read per step of the cancel walk
UNREACHED_REASON = {
    BatchStatus.STOPPED: "the batch was stopped before this contact was dialled",
    BatchStatus.FAILED: "the batch failed before this contact was dialled",
}
WAITING_REASON = {
    BatchStatus.STOPPED: "the batch was stopped before this call was placed",
    BatchStatus.FAILED: "the batch failed before this call was placed",
}


def handle_control(svc: Services, message: ControlMessage) -> None:
    if message.kind == "start":
        _start(svc, message)
    elif message.kind == "cancel":
        cancel_step(svc, message.batch_id, message.pos, message.after)
    else:
        dispatch_step(svc, message.batch_id, message.pos, message.waits)


def _start(svc: Services, message: ControlMessage) -> None:
    batch = svc.batches.find(message.batch_id)
    if batch is None or batch.get("start_token") != message.token:
        return  # re-scheduled, stopped or deleted since this start was sent: stale
    if message.start_at:
        early = (clock.parse_iso(message.start_at) - clock.now()).total_seconds()
        if early > 0.5:  # the Scheduler fires on the minute; wait out the seconds exactly
            svc.queues.send(CONTROL_QUEUE, message.again(), int(early + 0.999))
            return
    if batch["status"] in STARTABLE:
        try:
            batch = svc.batches.transition(
                message.batch_id,
                STARTABLE,
                BatchStatus.RUNNING,
                set_fields={"started_at": clock.now_iso()},
                start_token=message.token,
            )
        except Conflict:
            return
    elif batch["status"] != BatchStatus.RUNNING:
        return
    emit_batch_event(svc, batch, "dispatching")  # deduped by id when a start is redelivered
    dispatch_step(svc, message.batch_id, batch.get("next_pos", 0), 0)


def capacity(batch: dict[str, Any], agent: dict[str, Any]) -> int:
    limits = [agent.get("max_concurrent_calls") or 10, batch.get("max_concurrent_calls") or 10**6]
    return int(min(limits))


def dispatch_step(svc: Services, batch_id: str, pos: int, waits: int) -> None:
    batch = svc.batches.find(batch_id)
    if batch is None or batch["status"] != BatchStatus.RUNNING or batch.get("deleted_at"):
        return  # paused: resume sends the next step; stopped: nothing more to dial
    if batch.get("next_pos", 0) != pos:
        return  # a duplicate step: the step at next_pos is, or was, handled by another message
    total = batch["valid_contacts"]
    if pos >= total:
        complete_if_done(svc, batch_id)
        return
    try:
        agent = svc.agents.get(batch["tenant_id"], batch["agent_id"])
    except NotFound:
        _agent_gone(svc, batch)
        return
    limit = max(20, capacity(batch, agent) * svc.settings.dial_backlog_factor)
    queued = int((batch.get("execution_status") or {}).get("queued", 0))
    room = limit - queued
    if room < min(10, limit // 2):
        delay = min(MAX_WAIT_SECONDS, 2 ** min(waits, 5))
        svc.queues.send(CONTROL_QUEUE, ControlMessage.dispatch(batch_id, pos, waits + 1), delay)
        return
    contacts = _slice(svc, batch, pos, min(room, total - pos, MAX_STEP))
    if not _dispatch(svc, batch, contacts):
        return  # stopped or paused meanwhile: these contacts are the cancel walk's, or resume's
    advanced = svc.batches.advance(batch_id, pos, pos + len(contacts), BatchStatus.RUNNING)
    if advanced and pos + len(contacts) < total:
        svc.queues.send(CONTROL_QUEUE, ControlMessage.dispatch(batch_id, pos + len(contacts)))
    elif advanced:
        emit_batch_event(svc, batch, "in_progress")  # every contact handed to the dialer


def _agent_gone(svc: Services, batch: dict[str, Any]) -> None:
    """The batch's agent was deleted (before deletes were refused, or racing one): stop the batch the way
    a user's stop does, with the reason, instead of failing every step forever. Calls already queued
    end as `error` in the dialer ("the agent was deleted before the call was placed")."""
    reason = f"agent {batch['agent_id']} was deleted while the batch ran: the batch was stopped"
    svc.batches.set_fields(batch["batch_id"], {"failure_reason": {"code": "agent_deleted", "message": reason}})
    try:
        stop_batch(svc, batch["tenant_id"], batch["batch_id"])
    except (Conflict, NotFound):
        return  # stopped, completed or deleted meanwhile
    logger.warning("agent deleted: batch stopped", extra={"batch_id": batch["batch_id"]})


def _slice(svc: Services, batch: dict[str, Any], pos: int, count: int) -> list[dict[str, Any]]:
    """Contacts pos..pos+count from the S3 chunks (at most two chunk reads per step)."""
    size = batch["chunk_size"]
    out: list[dict[str, Any]] = []
    while len(out) < count:
        chunk_index, offset = divmod(pos + len(out), size)
        taken = svc.blobs.read_chunk(batch["batch_id"], chunk_index)[offset : offset + count - len(out)]
        if not taken:
            break
        out.extend(taken)
    return out


def _dispatch(svc: Services, batch: dict[str, Any], contacts: list[dict[str, Any]]) -> bool:
    """Write and send the contacts' executions; False when the batch stopped or paused first."""
    batch_id = batch["batch_id"]
    numbers = batch.get("from_phone_numbers") or []
    now = clock.now_iso()
    for start in range(0, len(contacts), TRANSACTION_ITEMS):
        part = contacts[start : start + TRANSACTION_ITEMS]
        executions = [_execution(batch, contact, numbers, now) for contact in part]
        try:
            # False on redelivery: the dials below are deduped
            svc.executions.create_many(batch_id, executions, must_run=True)
        except BatchNotRunning:
            return False
        svc.queues.send_many(DIAL_QUEUE, [(DialMessage.for_execution(e, batch), 0) for e in executions])
    return True


def cancel_step(svc: Services, batch_id: str, pos: int, after: str | None) -> None:
    """One bounded step of an ended batch's cancel walk; a redelivered or overtaken step does nothing twice."""
    batch = svc.batches.find(batch_id)
    if batch is None or batch["status"] not in ENDED_EARLY or batch.get("settled_at") or not batch.get("active"):
        return
    if batch.get("deleted_at"):  # nobody can see it any more: stop walking
        svc.batches.mark_settled(batch_id)
        svc.batches.close_ended(batch_id, require_finished=False)
        return
    total = batch["valid_contacts"]
    if pos < total:
        if batch.get("next_pos", 0) != pos:
            return  # a duplicate step: the step at next_pos is, or was, handled by another message
        contacts = _slice(svc, batch, pos, min(total - pos, MAX_STEP))
        _write_unreached(svc, batch, contacts)
        to_pos = pos + len(contacts) if contacts else total
        if svc.batches.advance(batch_id, pos, to_pos, BatchStatus(batch["status"])):
            svc.queues.send(CONTROL_QUEUE, ControlMessage.cancel(batch_id, to_pos))
        return
    if batch.get("settle_after") != after:
        return  # a duplicate step
    waiting, last = svc.executions.waiting_page(batch_id, after, CANCEL_PAGE)
    for execution in waiting:
        _cancel_waiting(svc, execution, WAITING_REASON[batch["status"]])
    if last is not None:
        if svc.batches.advance_settling(batch_id, after, last):
            svc.queues.send(CONTROL_QUEUE, ControlMessage.cancel(batch_id, total, last))
        return
    svc.batches.mark_settled(batch_id)
    complete_if_done(svc, batch_id)


def _write_unreached(svc: Services, batch: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
    """A `canceled` execution per contact never dispatched, counted on the batch in the same transaction."""
    numbers = batch.get("from_phone_numbers") or []
    now = clock.now_iso()
    reason = {"status": "canceled", "error_message": UNREACHED_REASON[batch["status"]], "ended_at": now}
    for start in range(0, len(contacts), TRANSACTION_ITEMS):
        part = contacts[start : start + TRANSACTION_ITEMS]
        executions = [{**_execution(batch, contact, numbers, now), **reason} for contact in part]
        svc.executions.create_absent(batch["batch_id"], executions, unreached=True)


def _cancel_waiting(svc: Services, execution: dict[str, Any], reason: str) -> None:
    """Cancel an execution not yet claimed (no claim can succeed once the batch stopped); it may move
    meanwhile (the dialer reschedules it, or cancels it itself), so re-read and decide again."""
    for _ in range(3):
        try:
            finish_call(svc, execution, "canceled", {"error_message": reason})
            return
        except StaleTransition:
            found = svc.executions.find(execution["execution_id"])
            if found is None or found["status"] not in WAITING:
                return
            execution = found


def _execution(batch: dict[str, Any], contact: dict[str, Any], numbers: list[str], now: str) -> dict[str, Any]:
    index = contact["i"]
    return {
        "execution_id": execution_id(batch["batch_id"], index, 1),
        "batch_id": batch["batch_id"],
        "tenant_id": batch["tenant_id"],
        "agent_id": batch["agent_id"],
        "seq": f"{index:09d}#01",
        "contact_index": index,
        "row": contact.get("row"),
        "status": "queued",
        "user_number": contact["n"],
        "from_number": pick_caller_id(numbers, contact["n"], index),
        "attempt": 1,
        "retry_count": 0,
        "recipient_data": contact.get("v") or {},
        "created_at": now,
        "updated_at": now,
    }
