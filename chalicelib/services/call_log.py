"""A call's timeline (Bolna's GET /executions/{id}/log): every attempt of the contact, in order.

Read from what the call's own writes left behind: each attempt's `timeline` (status changes,
provider requests and answers) and each of its webhook events' delivery history. The attempts
are found from the one asked for: earlier ones through `retry_history`, later ones through
`superseded_by`, so any attempt's log tells the contact's whole story.
"""

from __future__ import annotations

from typing import TypedDict

from ..domain.records import Execution
from ..domain.timeline import PublicEntry, public_entry
from ..domain.webhooks import CALL_EVENTS, call_event_id
from .container import Dependencies

MAX_ATTEMPTS = 10  # retry_config allows 3 retries: a guard, not a limit anyone meets


class CallLog(TypedDict):
    status: str  # always "success", as Bolna answers
    data: list[PublicEntry]


def call_log(deps: Dependencies, tenant_id: str, execution_id: str) -> CallLog:
    """Bolna's shape, `{"status": "success", "data": [entry, ...]}`: oldest attempt first, each in time order."""
    execution = deps.executions.get(tenant_id, execution_id)
    entries: list[PublicEntry] = []
    for attempt in _attempts(deps, execution):
        mine = [public_entry(e, attempt.execution_id, attempt.attempt) for e in attempt.timeline or []]
        for event in sorted(CALL_EVENTS):
            state = deps.deliveries.state(attempt.batch_id, call_event_id(attempt.execution_id, event))
            mine.extend(
                public_entry(e, attempt.execution_id, attempt.attempt) for e in (state or {}).get("history") or []
            )
        entries.extend(sorted(mine, key=lambda e: e["created_at"] or ""))  # stable: writes of one time keep order
    return {"status": "success", "data": entries}


def _attempts(deps: Dependencies, execution: Execution) -> list[Execution]:
    earlier = [
        found
        for past in execution.retry_history or []
        if past.get("execution_id") and (found := deps.executions.find(past["execution_id"])) is not None
    ]
    chain = [*earlier, execution]
    while (later_id := chain[-1].superseded_by) and len(chain) < MAX_ATTEMPTS:
        later = deps.executions.find(later_id)
        if later is None:  # the retry's message went out before its execution was written: not yet
            break
        chain.append(later)
    return chain
