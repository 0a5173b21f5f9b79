"""Call (execution) statuses and the rule that they only move forward."""

from __future__ import annotations

from enum import StrEnum


class CallStatus(StrEnum):
    QUEUED = "queued"
    RESCHEDULED = "rescheduled"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"
    ERROR = "error"
    CANCELED = "canceled"
    SUPPRESSED = "suppressed"  # never dialled: the number is on the tenant's do-not-call list
    CONTACT_LIMITED = "contact_limited"  # never dialled: over its per-number limit for the rest of the batch's wait


FINAL: frozenset[CallStatus] = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.NO_ANSWER,
        CallStatus.BUSY,
        CallStatus.FAILED,
        CallStatus.ERROR,
        CallStatus.CANCELED,
        CallStatus.SUPPRESSED,
        CallStatus.CONTACT_LIMITED,
    }
)
# Final statuses the service decides before any call: no provider may report them (status_map refuses them).
NOT_DIALLED: frozenset[CallStatus] = frozenset({CallStatus.SUPPRESSED, CallStatus.CONTACT_LIMITED})

_RANK: dict[CallStatus, int] = {
    CallStatus.QUEUED: 0,
    CallStatus.RESCHEDULED: 0,
    CallStatus.INITIATED: 1,
    CallStatus.RINGING: 2,
    CallStatus.IN_PROGRESS: 3,
    **{status: 4 for status in FINAL},
}


def rank(status: str) -> int:
    return _RANK[CallStatus(status)]


def is_final(status: str) -> bool:
    return CallStatus(status) in FINAL


def statuses_before(target: str) -> list[str]:
    """Every status a call may leave to reach `target`: a late `ringing` never overwrites `completed`."""
    target_rank = rank(target)
    return [status.value for status, r in _RANK.items() if r < target_rank]
