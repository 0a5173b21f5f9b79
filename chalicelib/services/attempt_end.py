"""The end of a call attempt, wherever it is decided (provider event, sweeper, dialer):
retry per the batch's retry_config, free the live-call slot, and complete the batch."""

from __future__ import annotations

from datetime import timedelta

from .. import clock
from ..domain.call_status import NOT_DIALLED, CallStatus, rank
from ..domain.executions import new_execution
from ..domain.messages import DialMessage
from ..domain.records import Batch, Execution
from ..domain.retry import RetryConfig, retry_delay_minutes
from ..domain.timeline import Entry
from ..observability import count
from ..resources import DIAL_QUEUE
from ..store.dynamo import Fields, Request
from ..store.executions import BatchNotRunning
from ..store.leases import agent_key
from .budget import month_cost_elements, pause_agent_if_spent, pause_if_spent
from .container import Dependencies
from .lifecycle import complete_if_done
from .webhooks import emit_call_event


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
    """
    batch = deps.batches.find(execution.batch_id)
    retry: Execution | None = None
    month_cost = month_cost_elements(deps, execution, fields)
    never_retried = status == CallStatus.CANCELED or status in NOT_DIALLED or _opted_out(execution, fields)
    if batch is not None and not never_retried:
        config = RetryConfig.model_validate(batch.retry_config) if batch.retry_config else None
        attempt = int(execution.attempt)
        minutes = retry_delay_minutes(config, status, bool(fields.get("answered_by_voice_mail")), attempt)
        if minutes is not None and batch.status == "running":
            retry = _retry(deps, batch, execution, status, fields, minutes, month_cost, notes, tallies)
    if retry is None:
        deps.executions.move(execution, status, fields, extra=month_cost, notes=notes, tallies=tallies)
    count(f"Outcome_{status}")
    if rank(execution.status) >= rank(CallStatus.INITIATED):
        release_slot(deps, execution)
    if batch is not None:
        announce_call(deps, batch, execution.execution_id, retry)
        if batch.max_spend is not None:
            pause_if_spent(deps, batch.batch_id)
    if month_cost:
        pause_agent_if_spent(deps, execution.tenant_id, execution.agent_id)
    if retry is None:
        complete_if_done(deps, execution.batch_id)


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
    deps.leases.release(agent_key(execution.tenant_id, execution.agent_id), execution.execution_id, execution.batch_id)


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
    try:
        deps.executions.replace_with_retry(
            old, status, {**fields, "superseded_by": new.execution_id}, new, extra, notes, tallies=tallies
        )
    except BatchNotRunning:
        return None
    return new
