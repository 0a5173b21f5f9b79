"""The claim's check on the number itself: never dial a suppressed number, never exceed its contact limit.

The check is one element of the claim transaction (store/numbers.py), so a suppression or another
batch's claim that lands first, by however little, refuses this claim; there is no window between
a check and the dial. A refused claim ends its execution `suppressed`, waits for the limit's window
to free a slot (rescheduled, like calling hours), or ends `contact_limited` when that is too far.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import clock
from ..domain.contact_limits import ContactLimit, limit_of
from ..domain.messages import DialMessage
from ..domain.records import Agent, Execution
from ..observability import count
from ..store.dynamo import Request
from ..store.executions import GuardRefused
from .container import Dependencies
from .dial_waits import later, reschedule, unplaced

SUPPRESSED_REASON = "the number is on the tenant's do-not-call list (suppressions)"
LIMITED_REASON = "the number reached its contact limit ({attempts} attempts in {days} days) for longer than the wait"
NO_SLOT_INFO_WAIT = timedelta(minutes=1)


def agent_limit(agent: Agent) -> ContactLimit | None:
    return limit_of(agent.max_attempts_per_number, agent.attempt_window_days)


def guard_element(deps: Dependencies, message: DialMessage, agent: Agent, now: datetime) -> Request:
    return deps.numbers.claim_element(message.tenant_id, message.to, now, agent_limit(agent))


def refused(
    deps: Dependencies, message: DialMessage, expected: Execution, agent: Agent, refusal: GuardRefused, now: datetime
) -> None:
    """Act on a refused claim: the execution ends (suppressed, contact_limited) or waits for the window."""
    limit = agent_limit(agent)
    blocked = deps.numbers.blocked(refusal.item, now, limit)
    if blocked.suppressed:
        count("CallsSuppressed")
        unplaced(deps, expected, "suppressed", SUPPRESSED_REASON)
        return
    count("CallsContactLimited")
    when = blocked.frees_at or now + NO_SLOT_INFO_WAIT  # no history returned (a lowered limit): look again soon
    if when - now > timedelta(hours=deps.settings.contact_limit_max_wait_hours) and limit is not None:
        unplaced(deps, expected, "contact_limited", LIMITED_REASON.format(attempts=limit.attempts, days=limit.days))
        return
    if expected.status != "rescheduled":
        if not reschedule(deps, expected, {"scheduled_at": clock.iso(when)}):
            return
    else:
        deps.executions.set_fields(message.execution_id, {"scheduled_at": clock.iso(when)})
    later(deps, message.again(expect_status="rescheduled", place_token=None), when)
