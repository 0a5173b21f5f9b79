"""Control-queue consumer: starts a batch and feeds the dial queue one bounded step at a time.

Each step reads one slice of the normalized contacts, writes their executions (all or
nothing, counted on the batch in the same transaction), sends their dial messages and
then a message for the next step, so no invocation grows with the batch. A step waits
while the dial backlog is above the batch's capacity, which is what lets a stop or a
pause take effect at once.
"""

from __future__ import annotations

from typing import Any

from .. import clock
from ..domain.batch_status import STARTABLE, BatchStatus
from ..domain.caller_id import pick_caller_id
from ..errors import Conflict, NotFound
from ..observability import logger
from ..resources import CONTROL_QUEUE, DIAL_QUEUE
from ..services.calls import dial_message
from ..services.container import Services
from ..services.ingest import execution_id
from ..services.lifecycle import complete_if_done, dispatch_message, stop_batch
from ..services.webhooks import emit_batch_event
from .messages import ControlMessage

TRANSACTION_ITEMS = 99  # DynamoDB's 100 per transaction, less the batch counter update
MAX_STEP = 2 * TRANSACTION_ITEMS  # contacts per step: a step's time and memory never grow with the batch
MAX_WAIT_SECONDS = 30


def handle_control(svc: Services, message: ControlMessage) -> None:
    if message.kind == "start":
        _start(svc, message)
    else:
        dispatch_step(svc, message.batch_id, message.pos, message.waits)


def _start(svc: Services, message: ControlMessage) -> None:
    batch = svc.batches.find(message.batch_id)
    if batch is None or batch.get("start_token") != message.token:
        return  # re-scheduled, stopped or deleted since this start was sent: stale
    if message.start_at:
        early = (clock.parse_iso(message.start_at) - clock.now()).total_seconds()
        if early > 0.5:  # the Scheduler fires on the minute; wait out the seconds exactly
            svc.queues.send(CONTROL_QUEUE, message.model_dump(), int(early + 0.999))
            return
    if batch["status"] in STARTABLE:
        try:
            batch = svc.batches.transition(
                message.batch_id,
                STARTABLE,
                BatchStatus.RUNNING,
                set_fields={"started_at": clock.now_iso()},
                extra_condition=("start_token = :tok", {":tok": {"S": message.token}}),
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
        svc.queues.send(CONTROL_QUEUE, dispatch_message(batch_id, pos, waits + 1), delay)
        return
    contacts = _slice(svc, batch, pos, min(room, total - pos, MAX_STEP))
    _dispatch(svc, batch, contacts)
    advanced = svc.batches.set_fields(
        batch_id,
        {"next_pos": pos + len(contacts)},
        condition="next_pos = :pos",
        condition_values={":pos": {"N": str(pos)}},
    )
    if advanced and pos + len(contacts) < total:
        svc.queues.send(CONTROL_QUEUE, dispatch_message(batch_id, pos + len(contacts)))
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


def _dispatch(svc: Services, batch: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
    batch_id = batch["batch_id"]
    numbers = batch.get("from_phone_numbers") or []
    now = clock.now_iso()
    for start in range(0, len(contacts), TRANSACTION_ITEMS):
        part = contacts[start : start + TRANSACTION_ITEMS]
        executions = [_execution(batch, contact, numbers, now) for contact in part]
        svc.executions.create_many(batch_id, executions)  # False on redelivery: the dials below are deduped
        svc.queues.send_many(DIAL_QUEUE, [(dial_message(e, batch), 0) for e in executions])


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
