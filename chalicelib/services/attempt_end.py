"""The end of a call attempt, wherever it is decided (provider event, sweeper, dialer):
retry per the batch's retry_config, free the live-call slot, and complete the batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .. import clock
from ..domain.batch_status import BatchStatus
from ..domain.call_status import NOT_DIALLED, CallStatus, rank
from ..domain.executions import new_execution
from ..domain.messages import DialMessage
from ..domain.records import Batch, Execution
from ..domain.retry import RetryConfig, retry_delay_minutes
from ..domain.timeline import Entry
from ..observability import count
from ..resources import DIAL_QUEUE
from ..store.batches import co_place, execution_shard
from ..store.dynamo import Fields, Request
from ..store.executions import BatchNotRunning, MaybeLast, SlotGone
from ..store.leases import lease_key
from .budget import month_cost_elements, pause_agent_if_spent, pause_if_spent
from .container import Dependencies
from .lifecycle import complete_if_done
from .warm_cache import WarmCache
from .webhooks import emit_call_event

_batches: WarmCache[str, Batch | None] = WarmCache(seconds=10.0, size=256)


def finish_call(
    deps: Dependencies,
    execution: Execution,
    status: str,
    fields: Fields,
    notes: list[Entry] | None = None,
    tallies: dict[str, int] | None = None,
) -> None:
    """Move an attempt to a final status; a retry, when due, replaces it as the contact's live attempt.
    `notes`: timeline entries that led to it (a provider's refusal), written in the same transaction.

    `tallies`: the batch's extraction counters this attempt's answers add, in the same transaction.

    The retry's dial message is sent before the transaction that creates its execution: if
    we die in between, the redelivered event sends it again (the dialer dedupes), and a message
    whose execution was never written is dropped by the dialer's claim.

    The live-call slot is freed in the same transaction (when the lease is already gone, the
    attempt ends without it). The retry decision needs only the batch's retry_config (fixed at
    creation) and whether it runs (the transaction checks that): a running batch is cached. The
    batch is read after the outcome only when it may be its last or spend the batch's budget
    (the transaction's `not_last` condition says it is neither otherwise).
    """
    running = _running_batch(deps, execution.batch_id)
    retry: Execution | None = None
    month_cost = month_cost_elements(deps, execution, fields)
    never_retried = status == CallStatus.CANCELED or status in NOT_DIALLED or _opted_out(execution, fields)
    if running is not None and not never_retried:
        config = RetryConfig.model_validate(running.retry_config) if running.retry_config else None
        attempt = int(execution.attempt)
        minutes = retry_delay_minutes(config, status, bool(fields.get("answered_by_voice_mail")), attempt)
        if minutes is not None:
            retry = _retry(deps, running, execution, status, fields, minutes, month_cost, notes, tallies)
    read_after = True
    if retry is None:
        read_after = _end(deps, execution, status, fields, month_cost, notes, tallies, running)
    count(f"Outcome_{status}")
    batch = deps.batches.find(execution.batch_id) if read_after else running
    if batch is not None:
        announce_call(deps, batch, execution.execution_id, retry)
        if batch.max_spend is not None:
            pause_if_spent(deps, batch.batch_id)
    if month_cost:
        pause_agent_if_spent(deps, execution.tenant_id, execution.agent_id)
    if retry is None and read_after:
        complete_if_done(deps, execution.batch_id, batch)


def _end(
    deps: Dependencies,
    execution: Execution,
    status: str,
    fields: Fields,
    month_cost: list[Request],
    notes: list[Entry] | None,
    tallies: dict[str, int] | None,
    running: Batch | None,
) -> bool:
    """The attempt's final status, freeing its slot in the same transaction (without, when freed before). True
    when the batch must be read after it: the outcome may have been its last, or the batch has a budget."""
    releases = _releases(deps, execution)
    not_last = _not_last(running, execution)
    while True:  # each refusal drops one option: at most four writes, nearly always one
        release = releases[0]
        try:
            deps.executions.move(
                execution,
                status,
                fields,
                extra=month_cost,
                notes=notes,
                tallies=tallies,
                release=release.elements if release else None,
                unmark=bool(release and release.unmark),
                not_last=not_last,
            )
            return not_last is None
        except SlotGone:
            releases = releases[1:]
        except MaybeLast:
            not_last = None


def _not_last(running: Batch | None, execution: Execution) -> int | None:
    """The `not_last` bound of an outcome in this batch (see BatchStore.counter_update), when one is worth trying:
    a running batch with no budget and more than one contact. In a batch with counter shards, only for a call
    counted in one (its shard's condition: another call there is live); the batch item's `finished` is a part."""
    if running is None or running.max_spend is not None or running.valid_contacts < 2:
        return None
    if running.counter_shards and not execution_shard(execution.model_extra):
        return None
    if running.co_key and not _co(execution):  # its agent shard's condition: another call of the batch is live
        return None
    return int(running.valid_contacts) - 1


@dataclass(frozen=True)
class Release:
    """One way to free an attempt's slot in its outcome's transaction: `elements` appended to it, `unmark`: the
    execution's own write removes its lease (store/leases.py)."""

    elements: list[Request]
    unmark: bool


def _releases(deps: Dependencies, execution: Execution) -> list[Release | None]:
    """The ways to free the slot of an attempt, tried in order until one holds: its lease on the execution,
    then a lease item (claimed before the fold), then none (freed before); none for one never claimed."""
    if rank(execution.status) < rank(CallStatus.INITIATED):
        return [None]
    key = lease_key(execution)  # the partition key of its shard's counter (and of a lease item)
    return [
        Release(deps.leases.counter_release(key), unmark=True),
        Release(deps.leases.release_elements(key, execution.execution_id), unmark=False),
        None,
    ]


def _running_batch(deps: Dependencies, batch_id: str) -> Batch | None:
    """The batch if it runs, for the retry decision: a running batch is cached briefly per warm container (its
    retry_config never changes; a stop or pause that lands meanwhile fails the retry's transaction); any
    other state is read again, so a resumed batch retries at once."""

    def load() -> Batch | None:
        found = deps.batches.find(batch_id, summed=False)  # its counters are never read from the cache
        return found if found is not None and found.status == BatchStatus.RUNNING else None

    return _batches.get(batch_id, load, keep=lambda running: running is not None)


def _opted_out(execution: Execution, fields: Fields) -> bool:
    """The person asked not to be called again (a provider event's opt_out): never retried."""
    return bool(fields.get("opted_out") or execution.opted_out)


def finish_again(deps: Dependencies, execution: Execution) -> None:
    """Redo the idempotent tail of finish_call for an attempt already final: free its slot, announce
    it (and its retry), complete the batch. Each step is harmless when it was done before."""
    release_slot(deps, execution)
    batch = deps.batches.find(execution.batch_id)
    if batch is None:
        return
    retry = deps.executions.find(execution.superseded_by) if execution.superseded_by else None
    announce_call(deps, batch, execution.execution_id, retry)
    if batch.max_spend is not None:
        pause_if_spent(deps, batch.batch_id)
    if execution.total_cost:  # the first delivery may have died before pausing for the agent's month
        pause_agent_if_spent(deps, execution.tenant_id, execution.agent_id)
    if retry is None:
        complete_if_done(deps, execution.batch_id)


def release_slot(deps: Dependencies, execution: Execution) -> None:
    """Free the live-call slot an attempt holds on its agent (nothing when it holds none, or already freed)."""
    shard = execution_shard(execution.model_extra)
    co = _co(execution)
    tag = co[1] if co is not None else None
    deps.leases.release(lease_key(execution), execution.execution_id, execution.batch_id, shard, tag)


def _co(execution: Execution) -> tuple[str, str] | None:
    """The agent shard that holds the attempt's batch counters (store/batches.py co_place), if its claim put
    them there."""
    return co_place(execution.batch_id, execution.model_extra, execution.tenant_id, execution.agent_id)


def announce_call(deps: Dependencies, batch: Batch, execution_id: str, retry: Execution | None) -> None:
    """The per-call webhook: the attempt that ended and, when one is due, the retry it scheduled.

    Event ids are deterministic, so announcing again (a redelivered provider event) sends nothing twice.
    """
    if not batch.webhook_url:
        return
    ended = deps.executions.find(execution_id)
    if ended is not None:
        emit_call_event(deps, ended, batch, "call.ended")
    if retry is not None:
        emit_call_event(deps, retry, batch, "call.retry_scheduled")


def _retry(
    deps: Dependencies,
    batch: Batch,
    old: Execution,
    status: str,
    fields: Fields,
    minutes: int,
    extra: list[Request],
    notes: list[Entry] | None,
    tallies: dict[str, int] | None = None,
) -> Execution | None:
    """The next attempt, created; None when the batch stopped meanwhile (a stopped batch never retries)."""
    attempt = int(old.attempt) + 1
    when = clock.now() + timedelta(minutes=minutes)
    now = clock.now_iso()
    history = [
        *(old.retry_history or []),
        {
            "attempt": attempt - 1,
            "execution_id": old.execution_id,
            "status": status,
            "answered_by_voice_mail": bool(fields.get("answered_by_voice_mail")),
            "ended_at": now,
        },
    ]
    new = new_execution(
        old,
        contact_index=old.contact_index,
        row=old.row,
        user_number=old.user_number,
        from_number=old.from_number,
        recipient_data=old.recipient_data or {},
        attempt=attempt,
        now=now,
        retry_history=history,
        scheduled_at=clock.iso(when),
    )
    message = DialMessage.for_execution(new, batch, not_before=clock.iso(when))
    deps.scheduler.send_at(DIAL_QUEUE, message, when, f"dial-{new.execution_id}")
    retried = {**fields, "superseded_by": new.execution_id}
    try:
        _replace(deps, old, status, retried, new, extra, notes, tallies)
    except BatchNotRunning:
        return None
    return new


def _replace(
    deps: Dependencies,
    old: Execution,
    status: str,
    fields: Fields,
    new: Execution,
    extra: list[Request],
    notes: list[Entry] | None,
    tallies: dict[str, int] | None,
) -> None:
    """End `old` and create `new`, freeing the slot the first way that holds (see _releases)."""
    for release in _releases(deps, old):
        elements, unmark = (release.elements, release.unmark) if release else (None, False)
        try:
            deps.executions.replace_with_retry(
                old, status, fields, new, extra, notes, tallies=tallies, release=elements, unmark=unmark
            )
        except SlotGone:
            continue
        return
