"""Batch lifecycle: which states a command may start from."""

from __future__ import annotations

from enum import StrEnum


class BatchStatus(StrEnum):
    VALIDATING = "validating"
    CREATED = "created"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"
    FAILED = "failed"


TERMINAL = frozenset({BatchStatus.STOPPED, BatchStatus.COMPLETED, BatchStatus.FAILED})
ACTIVE = frozenset({BatchStatus.SCHEDULED, BatchStatus.RUNNING, BatchStatus.PAUSED})
# Ended before every contact was called: the contacts never reached are canceled (lifecycle.settle).
ENDED_EARLY = frozenset({BatchStatus.STOPPED, BatchStatus.FAILED})

# command -> states it may be applied in (Bolna: stop answers 409 unless scheduled or running).
SCHEDULABLE = frozenset({BatchStatus.CREATED, BatchStatus.SCHEDULED})
RUNNABLE = frozenset({BatchStatus.CREATED, BatchStatus.SCHEDULED})
STOPPABLE = frozenset({BatchStatus.SCHEDULED, BatchStatus.RUNNING, BatchStatus.PAUSED})
PAUSABLE = frozenset({BatchStatus.RUNNING})
RESUMABLE = frozenset({BatchStatus.PAUSED})
STARTABLE = frozenset({BatchStatus.CREATED, BatchStatus.SCHEDULED})
