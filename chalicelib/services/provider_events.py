"""A provider's report on a call, applied: it moves the execution forward, never back, and ends the call."""

from __future__ import annotations

from .. import clock
from ..domain.call_status import is_final, rank
from ..domain.messages import ProviderEvent
from ..observability import logger
from ..store.dynamo import Fields
from ..store.executions import StaleTransition
from .calls import finish_again, finish_call
from .container import Services
from .suppressions import record_opt_out

FINAL_DETAILS = (
    "conversation_duration",
    "total_cost",
    "transcript",
    "answered_by_voice_mail",
    "hangup_reason",
    "recording_url",
    "error_message",
)
MAX_RACE_RETRIES = 5


def apply_provider_event(svc: Services, event: ProviderEvent) -> None:
    """Idempotent: a late, repeated or redelivered event changes nothing it should not."""
    for _ in range(MAX_RACE_RETRIES):
        execution = svc.executions.find(event.execution_id)
        if execution is None:
            logger.warning("event for an unknown execution", extra={"execution_id": event.execution_id})
            return
        if event.details.get("opt_out"):
            record_opt_out(svc, execution)  # first, and on every delivery: late or repeated events count too
        if event.status == execution.status and is_final(event.status):
            finish_again(svc, execution)  # a redelivery: the first delivery may have died before the end
            return
        if rank(event.status) <= rank(execution.status):
            return  # late or repeated: a `ringing` after `completed` changes nothing
        try:
            if is_final(event.status):
                finish_call(svc, execution, event.status, _fields(event))
            else:
                svc.executions.move(execution, event.status, _fields(event))
            return
        except StaleTransition:
            continue  # another event moved it first: read again and decide again
    raise RuntimeError(f"execution {event.execution_id} kept changing; retry the event later")


def _fields(event: ProviderEvent) -> Fields:
    fields: Fields = {"provider": event.provider}
    if event.provider_call_id:
        fields["provider_call_id"] = event.provider_call_id
    if event.details.get("opt_out"):
        fields["opted_out"] = True  # never retried (calls.finish_call)
    if is_final(event.status):
        fields["ended_at"] = clock.now_iso()
        fields.update({k: event.details[k] for k in FINAL_DETAILS if k in event.details})
    elif event.status == "in-progress":
        fields["answered_at"] = clock.now_iso()
    return fields
