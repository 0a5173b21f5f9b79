"""Starting a batch and its dispatch walk: the contacts fed to the dial queue one bounded step at a time.

Each step reads one slice of the normalized contacts, writes their executions (all or
nothing, counted on the batch in the same transaction), sends their dial messages and
then a message for the next step, so no invocation grows with the batch. A step waits
while the dial backlog is above the batch's capacity, which is what lets a stop or a
pause take effect at once. A batch that ends early gets a cancel walk instead (`cancel_walk.py`).
"""

from __future__ import annotations

from datetime import timedelta

from .. import clock
from ..domain.arrival import early_until
from ..domain.batch_status import STARTABLE, BatchStatus
from ..domain.caller_id import pick_caller_id
from ..domain.executions import new_execution
from ..domain.messages import ControlMessage, DialMessage
from ..domain.records import Agent, Batch, Execution, StoredContact
from ..errors import Conflict, NotFound
from ..observability import logger
from ..resources import CONTROL_QUEUE, DIAL_QUEUE
from ..store.batches import CO_FIELD, shards_for
from ..store.dynamo import Fields
from ..store.executions import BatchNotRunning
from ..store.leases import agent_key
from .container import Dependencies
from .lifecycle import complete_if_done, stop_batch
from .webhooks import emit_batch_event

TRANSACTION_ITEMS = 99  # DynamoDB's 100 per transaction, less the batch counter update
MAX_STEP = 2 * TRANSACTION_ITEMS  # contacts per step: a step's time and memory never grow with the batch
MAX_WAIT_SECONDS = 30
START_TOLERANCE = timedelta(seconds=0.5)


def start_batch(deps: Dependencies, message: ControlMessage) -> None:
    """The scheduled start: the batch runs, is announced, and its first dispatch step is taken."""
    batch = deps.batches.find(message.batch_id)
    if batch is None or batch.start_token != message.token:
        return  # re-scheduled, stopped or deleted since this start was sent: stale
    now = clock.now()
    due = early_until(message.start_at, now, START_TOLERANCE)
    if due is not None:  # the Scheduler fires on the minute; wait out the seconds exactly
        deps.queues.send(CONTROL_QUEUE, message.again(), int((due - now).total_seconds() + 0.999))
        return
    if batch.status in STARTABLE:
        try:
            batch = deps.batches.transition(
                message.batch_id,
                STARTABLE,
                BatchStatus.RUNNING,
                set_fields={"started_at": clock.now_iso(), **_counter_shards(deps, batch)},
                start_token=message.token,
            )
        except Conflict:
            return
    elif batch.status != BatchStatus.RUNNING:
        return
    emit_batch_event(deps, batch, "dispatching")  # deduped by id when a start is redelivered
    dispatch_step(deps, message.batch_id, batch.next_pos, 0)


def _counter_shards(deps: Dependencies, batch: Batch) -> Fields:
    """A large batch's per-call counters go to shards from its start (store/batches.py: fixed from then on); a
    small one's without its own cap or budget to its agent's live-call shards, if they have room."""
    shards = shards_for(batch)
    if shards:
        return {"counter_shards": shards}
    if batch.counter_shards or batch.max_concurrent_calls or batch.max_spend is not None or batch.co_key:
        return {}
    agent = agent_key(batch.tenant_id, batch.agent_id)
    return {CO_FIELD: agent} if deps.batches.co_room(agent) else {}


def capacity(batch: Batch, agent: Agent) -> int:
    limits = [agent.max_concurrent_calls or 10, batch.max_concurrent_calls or 10**6]
    return int(min(limits))


def dispatch_step(deps: Dependencies, batch_id: str, pos: int, waits: int) -> None:
    batch = deps.batches.find(batch_id)
    if batch is None or batch.status != BatchStatus.RUNNING or batch.deleted_at:
        return  # paused: resume sends the next step; stopped: nothing more to dial
    if batch.next_pos != pos:
        return  # a duplicate step: the step at next_pos is, or was, handled by another message
    total = batch.valid_contacts
    if pos >= total:
        complete_if_done(deps, batch_id)
        return
    try:
        agent = deps.agents.get(batch.tenant_id, batch.agent_id)
    except NotFound:
        _agent_gone(deps, batch)
        return
    room = _room(deps, batch, agent)
    if room is None:
        delay = min(MAX_WAIT_SECONDS, 2 ** min(waits, 5))
        deps.queues.send(CONTROL_QUEUE, ControlMessage.dispatch(batch_id, pos, waits + 1), delay)
        return
    contacts = read_contacts(deps, batch, pos, min(room, total - pos, MAX_STEP))
    if not _dispatch(deps, batch, contacts):
        return  # stopped or paused meanwhile: these contacts are the cancel walk's, or resume's
    advanced = deps.batches.advance(batch_id, pos, pos + len(contacts), BatchStatus.RUNNING)
    if advanced and pos + len(contacts) < total:
        deps.queues.send(CONTROL_QUEUE, ControlMessage.dispatch(batch_id, pos + len(contacts)))
    elif advanced:
        emit_batch_event(deps, batch, "in_progress")  # every contact handed to the dialer


def _room(deps: Dependencies, batch: Batch, agent: Agent) -> int | None:
    """How many more dials the backlog takes now; None when too few to be worth a step (wait instead)."""
    limit = max(20, capacity(batch, agent) * deps.settings.dial_backlog_factor)
    queued = int((batch.execution_status or {}).get("queued", 0))
    room = limit - queued
    return None if room < min(10, limit // 2) else room


def _agent_gone(deps: Dependencies, batch: Batch) -> None:
    """The batch's agent was deleted (before deletes were refused, or racing one): stop the batch the way
    a user's stop does, with the reason, instead of failing every step forever. Calls already queued
    end as `error` in the dialer ("the agent was deleted before the call was placed")."""
    reason = f"agent {batch.agent_id} was deleted while the batch ran: the batch was stopped"
    deps.batches.set_fields(batch.batch_id, {"failure_reason": {"code": "agent_deleted", "message": reason}})
    try:
        stop_batch(deps, batch.tenant_id, batch.batch_id)
    except (Conflict, NotFound):
        return  # stopped, completed or deleted meanwhile
    logger.warning("agent deleted: batch stopped", extra={"batch_id": batch.batch_id})


def read_contacts(deps: Dependencies, batch: Batch, pos: int, count: int) -> list[StoredContact]:
    """Contacts pos..pos+count from the S3 chunks (at most two chunk reads per step)."""
    size = batch.chunk_size
    out: list[StoredContact] = []
    while len(out) < count:
        chunk_index, offset = divmod(pos + len(out), size)
        taken = deps.blobs.read_chunk(batch.batch_id, chunk_index)[offset : offset + count - len(out)]
        if not taken:
            break
        out.extend(taken)
    return out


def _dispatch(deps: Dependencies, batch: Batch, contacts: list[StoredContact]) -> bool:
    """Write and send the contacts' executions; False when the batch stopped or paused first."""
    now = clock.now_iso()
    for start in range(0, len(contacts), TRANSACTION_ITEMS):
        executions = first_attempts(batch, contacts[start : start + TRANSACTION_ITEMS], now)
        try:
            # False on redelivery: the dials below are deduped
            deps.executions.create_many(batch.batch_id, executions, must_run=True)
        except BatchNotRunning:
            return False
        deps.queues.send_many(DIAL_QUEUE, [(DialMessage.for_execution(e, batch), 0) for e in executions])
    return True


def first_attempts(batch: Batch, contacts: list[StoredContact], now: str) -> list[Execution]:
    """The first attempt's execution of each contact (the ids a cancel walk also uses for the unreached)."""
    numbers = batch.from_phone_numbers or []
    return [
        new_execution(
            batch,
            contact_index=contact["i"],
            row=contact.get("row"),
            user_number=contact["n"],
            from_number=pick_caller_id(numbers, contact["n"], contact["i"]),
            recipient_data=contact.get("v") or {},
            attempt=1,
            now=now,
        )
        for contact in contacts
    ]
