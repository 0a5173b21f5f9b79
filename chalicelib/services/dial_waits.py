"""A dial that cannot be placed now: it waits (calling hours, pacing, a placement retry) or ends unplaced.

Every wait is a message handed back to the dial queue (or scheduled, beyond 15 minutes); none fails
the record, so none counts toward the dead-letter queue.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from .. import clock
from ..domain.calling_window import CallingWindow, next_open
from ..domain.messages import DialMessage
from ..domain.records import Execution
from ..domain.timeline import Entry
from ..resources import DIAL_QUEUE
from ..store.dynamo import Fields
from ..store.executions import SlotGone, StaleTransition
from ..store.leases import lease_key
from .attempt_end import finish_call, release_slot
from .container import Dependencies
from .webhooks import emit_batch_event

LIVE = ("initiated", "ringing", "in-progress")


def again(
    deps: Dependencies, message: DialMessage, delay: int, *, notes: list[Entry] | None = None, **update: Any
) -> None:
    """Back to the queue, still claimed (its slot held), with a fresh token only one delivery can take.

    Touching the execution also keeps the sweeper from declaring the claim lost meanwhile; `notes`
    (the failed provider request) join its timeline in that same write.
    """
    token = uuid.uuid4().hex
    fields = {"updated_at": clock.now_iso(), "place_token": token}
    if not deps.executions.set_fields(message.execution_id, fields, only_if_status=["initiated"], notes=notes):
        return  # finished meanwhile (stopped, swept)
    deps.queues.send(DIAL_QUEUE, message.again(expect_status="initiated", place_token=token, **update), min(delay, 900))


def wait_again(deps: Dependencies, message: DialMessage, delay: int, **update: Any) -> None:
    """An unclaimed call that must wait (no free slot, a paused batch): back to the queue, as one chain.

    Copies of a waiting message (a duplicate delivery, a redelivery after a crash that followed the send)
    would each hand themselves back for ever. So the execution records the live copy's `wait_token`, and a
    copy that is not the live one dies at its claim (the claim's condition holds only for the live copy:
    DialMessage.live_wait), so one refused for want of a slot or by its batch comes here known to be live,
    with no read. The live one sends its successor, then records the successor's token if it still was the
    live one, so of two racing copies one successor lives. The successor is also live while the token it
    replaced stands: a copy that died between sending and recording is replaced by its redelivery's
    successor, whose record kills the first.
    """
    token = uuid.uuid4().hex
    successor = message.again(wait_token=token, wait_parent=message.wait_token, **update)
    deps.queues.send(DIAL_QUEUE, successor, delay)
    deps.executions.hand_off_wait(message.execution_id, (message.wait_token, message.wait_parent), token)


def later(deps: Dependencies, message: DialMessage, when: datetime) -> None:
    """The message again at `when` (an SQS delay, or a Scheduler schedule beyond 15 minutes)."""
    deps.scheduler.send_at(DIAL_QUEUE, message.again(not_before=clock.iso(when)), when, f"dial-{message.execution_id}")


def unplaced(
    deps: Dependencies, expected: Execution, status: str, reason: str, notes: list[Entry] | None = None
) -> None:
    """End the attempt without a call (a retry may follow); nothing when it moved meanwhile."""
    try:
        finish_call(deps, expected, status, {"error_message": reason}, notes)
    except StaleTransition:
        return


def reschedule(deps: Dependencies, expected: Execution, fields: Fields) -> bool:
    """Move the attempt to `rescheduled`. True also when it already is (an earlier try of this message moved
    it, then died before sending the message that wakes it): the redelivery must send that, or the call
    waits forever. A second wake-up is harmless: the claim from `rescheduled` is conditional. A claimed
    attempt's slot is freed in the same write (its lease is on the execution; one claimed before holds a lease
    item, freed right after)."""
    try:
        if expected.status == "initiated":
            _reschedule_claimed(deps, expected, fields)
        else:
            deps.executions.move(expected, "rescheduled", fields)
    except StaleTransition:
        current = deps.executions.find(expected.execution_id)
        return current is not None and current.status == "rescheduled" and current.attempt == expected.attempt
    return True


def _reschedule_claimed(deps: Dependencies, expected: Execution, fields: Fields) -> None:
    key = lease_key(expected)  # its shard's counter
    try:
        deps.executions.move(expected, "rescheduled", fields, release=deps.leases.counter_release(key), unmark=True)
    except SlotGone:
        deps.executions.move(expected, "rescheduled", fields)
        release_slot(deps, expected)  # a lease item (claimed before the fold), or nothing when freed before


def rule_fields(hours: tuple[CallingWindow, tuple[str, ...]] | None) -> dict[str, str | None]:
    """What the execution records of the rules it was held to: the holiday calendar, when they skip holidays."""
    if hours is None or not hours[0].public_holidays:
        return {}
    return {"holiday_calendar": hours[0].holiday_calendar}


def wait_for_window(
    deps: Dependencies,
    message: DialMessage,
    expected: Execution,
    hours: tuple[CallingWindow, tuple[str, ...]],
    now: datetime,
) -> None:
    """Outside the recipient's calling hours (`hours`: the window and the number's time zones):
    reschedule to the next open slot, or end it when no time is open in every zone."""
    when = next_open(*hours, now)
    if when is None:
        unplaced(deps, expected, "error", "no time is inside the calling hours in every time zone of this number")
        return
    if expected.status != "rescheduled":
        # the window may have closed while its placement was retried: its slot is freed with the move
        if not reschedule(deps, expected, {"scheduled_at": clock.iso(when), **rule_fields(hours)}):
            return
        _announce_waiting(deps, message.batch_id)
    else:
        deps.executions.set_fields(message.execution_id, {"scheduled_at": clock.iso(when)})
    later(deps, message.again(expect_status="rescheduled", place_token=None), when)


def _announce_waiting(deps: Dependencies, batch_id: str) -> None:
    """`waiting_for_scheduled_calls`: every contact left to call waits for its calling hours."""
    batch = deps.batches.find(batch_id)
    if batch is None or batch.next_pos < batch.valid_contacts:
        return  # contacts not yet dispatched may still be callable now
    counts = batch.execution_status or {}
    if counts.get("rescheduled", 0) and not any(counts.get(s, 0) for s in ("queued", *LIVE)):
        emit_batch_event(deps, batch, "waiting_for_scheduled_calls")
