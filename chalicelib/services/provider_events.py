"""A provider's report on a call, applied: it moves the execution forward, never back, and ends the call."""

from __future__ import annotations

from .. import clock
from ..domain.call_status import is_final, rank
from ..domain.extraction import checked, parse_schema, summary_text
from ..domain.messages import ProviderEvent
from ..domain.records import Execution
from ..errors import NotFound
from ..observability import logger
from ..store.dynamo import Fields
from ..store.executions import StaleTransition
from .attempt_end import finish_again, finish_call
from .container import Dependencies
from .suppressions import record_opt_out
from .webhooks import emit_call_event

FINAL_DETAILS = (
    "conversation_duration",
    "total_cost",
    "transcript",
    "answered_by_voice_mail",
    "hangup_reason",
    "recording_url",
    "error_message",
    "summary",
    "cost_breakdown",
    "transfer_call_data",
    "hangup_by",
    "hangup_provider_code",
    "ring_duration",
    "telephony_duration",
    "post_dial_delay",
)
MAX_RACE_RETRIES = 5


# A live call's progress, written without a read from the status it most likely follows (a miss costs the read).
LIKELY_BEFORE = {"ringing": "initiated", "in-progress": "ringing"}


def apply_provider_event(deps: Dependencies, event: ProviderEvent) -> None:
    """Idempotent: a late, repeated or redelivered event changes nothing it should not."""
    found = _progress_unread(deps, event)
    if found is None:
        return
    for _ in range(MAX_RACE_RETRIES):
        execution = found[0] if found else deps.executions.find(event.execution_id)
        found = ()
        if execution is None:
            logger.warning("event for an unknown execution", extra={"execution_id": event.execution_id})
            return
        if event.details.get("opt_out"):
            record_opt_out(deps, execution)  # first, and on every delivery: late or repeated events count too
        if event.status == execution.status and is_final(event.status):
            _late_details(deps, execution, event)
            finish_again(deps, execution)  # a redelivery: the first delivery may have died before the end
            return
        if rank(event.status) <= rank(execution.status):
            return  # late or repeated: a `ringing` after `completed` changes nothing
        try:
            if is_final(event.status):
                fields, tallies = _with_extraction(deps, execution, _fields(event), event)
                finish_call(deps, execution, event.status, fields, tallies=tallies)
            else:
                deps.executions.move(execution, event.status, _fields(event))
            return
        except StaleTransition:
            continue  # another event moved it first: read again and decide again
    raise RuntimeError(f"execution {event.execution_id} kept changing; retry the event later")


def _progress_unread(deps: Dependencies, event: ProviderEvent) -> tuple[Execution | None, ...] | None:
    """`ringing` or `in-progress` written at once, compare-and-set from the status it most likely follows: None
    when that took; else the execution as the refused write found it (a 1-tuple), or () when it must be read."""
    likely = LIKELY_BEFORE.get(str(event.status))
    if likely is None or event.details.get("opt_out"):
        return ()
    try:
        deps.executions.advance(event.execution_id, likely, event.status, _fields(event))
    except StaleTransition as stale:
        return (stale.current,) if stale.known else ()
    return None


def _fields(event: ProviderEvent) -> Fields:
    fields: Fields = {"provider": event.provider}
    if event.provider_call_id:
        fields["provider_call_id"] = event.provider_call_id
    if event.details.get("opt_out"):
        fields["opted_out"] = True  # never retried (attempt_end.finish_call)
    if is_final(event.status):
        fields["ended_at"] = clock.now_iso()
        fields.update({k: event.details[k] for k in FINAL_DETAILS if k in event.details})
    elif event.status == "in-progress":
        fields["answered_at"] = clock.now_iso()
    elif event.status == "ringing":
        fields["ringing_at"] = clock.now_iso()  # for ring_duration and post_dial_delay when not reported
    return fields


def _late_details(deps: Dependencies, execution: Execution, event: ProviderEvent) -> None:
    """A second report of the final status may bring what the first lacked: Bolna sends `call-disconnected` as
    the line drops and `completed`, with the extracted data, summary and cost, seconds later. Fields not known
    yet are set (and counted); a `call.updated` webhook carries them, once (its event id is deterministic, so a
    redelivery that finds them already set announces again and nothing is sent twice)."""
    fields = {k: v for k, v in _fields(event).items() if k in FINAL_DETAILS and getattr(execution, k) is None}
    tallies: dict[str, int] = {}
    if execution.extracted_data is None:
        fields, tallies = _with_extraction(deps, execution, fields, event)
    fields = {k: v for k, v in fields.items() if v is not None}
    if fields:
        deps.executions.add_details(execution, fields, tallies=tallies)
    if fields or execution.late_details_at:
        updated = deps.executions.find(execution.execution_id)
        batch = deps.batches.find(execution.batch_id)
        if updated is not None and updated.late_details_at and batch is not None:
            emit_call_event(deps, updated, batch, "call.updated")


def _with_extraction(
    deps: Dependencies, execution: Execution, fields: Fields, event: ProviderEvent
) -> tuple[Fields, dict[str, int]]:
    """The reported extracted_data checked against the agent's schema (as it is when the call ends), and the
    batch tallies it adds; a deleted agent's data is kept unchecked."""
    if "summary" in fields:
        fields["summary"] = summary_text(fields["summary"])
    if event.details.get("extracted_data") is None:
        return fields, {}
    try:
        schema = parse_schema(deps.agents.get(execution.tenant_id, execution.agent_id).extraction_schema)
    except NotFound:
        schema = []
    data, errors, tallies = checked(schema, event.details["extracted_data"])
    fields.update(extracted_data=data, extraction_errors=errors or None)
    return fields, tallies
