"""Sweep once: finish what a crash or a silent provider left behind.

Each execution, lease and batch is swept on its own: one that raises (bad data, a bug, a throttled
write) is logged and skipped, so it can never stop the recovery of every other tenant's batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from .. import clock
from ..domain.batch_status import ENDED_EARLY, BatchStatus
from ..domain.messages import ControlMessage
from ..domain.records import Batch, Execution
from ..observability import count, logger
from ..resources import CONTROL_QUEUE
from ..store.batches import co_place, execution_shard
from ..store.dynamo import Fields
from ..store.executions import StaleTransition
from .attempt_end import finish_call
from .container import Dependencies
from .dial_waits import LIVE
from .lifecycle import complete_if_done, deliver_start, fold_ended, missed_start, resume_settling
from .wake_rearm import lost_wakes, rearm

STALL_AFTER = timedelta(minutes=2)


def _dispatch_stalled(batch: Batch, cutoff: str) -> bool:
    return batch.status == BatchStatus.RUNNING and batch.next_pos < batch.valid_contacts and batch.updated_at < cutoff


@dataclass
class SweepReport:
    unplaced: int = 0
    unreported: int = 0
    completed_batches: int = 0
    restarted_batches: int = 0
    resumed_dispatches: int = 0
    reclaimed_leases: int = 0
    resumed_cancels: int = 0
    folded_batches: int = 0  # completed batches whose counters left their agent's shards (lifecycle.fold_ended)
    rearmed_wakes: int = 0  # rescheduled calls whose wake-up was lost, woken again (services/wake_rearm.py)
    failures: int = 0  # items that raised and were skipped; they are tried again next sweep
    live_calls: int = 0  # leases held at the end of the sweep (published as the LiveCalls metric)


@contextmanager
def _isolated(report: SweepReport, step: str, **ids: str) -> Iterator[None]:
    """Log and count whatever one item raises, and go on with the next."""
    try:
        yield
    except Exception:
        report.failures += 1
        count("SweepFailures")
        logger.exception("sweep step failed; skipped until the next sweep", extra={"step": step, **ids})


def sweep_once(deps: Dependencies) -> SweepReport:
    """Every open execution, expired lease, active batch and lost wake-up, each on its own; what was done, counted.
    A listing that fails (its query throttled, a 5xx) skips only the rest of that listing until the next sweep:
    never the others (chaos seed 162: a failed query of open calls ended the whole sweep); a sharded listing
    skips only the failed shard (store/dynamo.query_shards)."""
    report = SweepReport()
    now = clock.now()
    touched: set[str] = set()
    with _isolated(report, "open_executions"):
        _sweep_executions(deps, report, now, touched)
    with _isolated(report, "expired_leases"):
        for lease in deps.leases.expired(clock.iso(now)):
            with _isolated(
                report, "expired_lease", execution_id=str(lease.get("lease_id")), batch_id=str(lease.get("batch_id"))
            ):
                if _reclaim(deps, lease):
                    report.reclaimed_leases += 1
    stall_cutoff = clock.iso(now - STALL_AFTER)
    with _isolated(report, "active_batches"):
        for batch in deps.batches.list_active():
            with _isolated(report, "active_batch", batch_id=str(batch.batch_id)):
                _sweep_batch(deps, report, batch, now, stall_cutoff, touched)
    with _isolated(report, "lost_wakes"):
        for execution in lost_wakes(deps, now):
            with _isolated(report, "lost_wake", execution_id=execution.execution_id, batch_id=execution.batch_id):
                report.rearmed_wakes += rearm(deps, execution, now)
    with _isolated(report, "live_calls"):
        report.live_calls = deps.leases.count_live()
        count("LiveCalls", report.live_calls)  # a gauge, once a minute: the dashboard draws its maximum
    return report


def _sweep_executions(deps: Dependencies, report: SweepReport, now: datetime, touched: set[str]) -> None:
    claim_cutoff = clock.iso(now - timedelta(seconds=deps.settings.claim_timeout_seconds))
    report_cutoff = clock.iso(now - timedelta(seconds=deps.settings.call_report_timeout_seconds))
    for execution in deps.executions.open_before(claim_cutoff):
        with _isolated(
            report,
            "open_execution",
            execution_id=str(execution.execution_id),
            batch_id=str(execution.batch_id),
        ):
            _sweep_execution(deps, report, execution, report_cutoff, touched)


def _reclaim(deps: Dependencies, lease: Fields) -> bool:
    """Free an expired lease whose call is no longer live: it ended (above, or earlier) but the release was
    lost. A call still live keeps its slot past the lease's expiry (a report or a placement retry moved it
    on since its claim): the provider may still be on it, and its own end, or the sweep above once its report
    is overdue, frees the slot. Found by the chaos test (seed 42): two live calls on a one-slot agent."""
    execution = deps.executions.find(str(lease["lease_id"]))
    if execution is not None and execution.status in LIVE:
        return False
    shard = execution_shard(execution.model_extra) if execution is not None else None
    co = (
        co_place(execution.batch_id, execution.model_extra, execution.tenant_id, execution.agent_id)
        if execution is not None
        else None
    )
    tag = co[1] if co is not None else None
    return deps.leases.release(lease["agent_key"], lease["lease_id"], lease["batch_id"], shard, tag)


def _sweep_execution(
    deps: Dependencies, report: SweepReport, execution: Execution, report_cutoff: str, touched: set[str]
) -> None:
    placed = bool(execution.provider_call_id)
    if placed and execution.updated_at >= report_cutoff:
        return  # placed and still within the time a provider may take to report
    reason = (
        f"no final status from the provider within {deps.settings.call_report_timeout_seconds} s"
        if placed
        else "the call was claimed but its placement was never confirmed"
    )
    try:
        finish_call(deps, execution, "error", {"error_message": reason, "ended_at": clock.now_iso()})
    except StaleTransition:
        return
    touched.add(execution.batch_id)
    if placed:
        report.unreported += 1
    else:
        report.unplaced += 1


def _sweep_batch(
    deps: Dependencies, report: SweepReport, batch: Batch, now: datetime, stall_cutoff: str, touched: set[str]
) -> None:
    if batch.batch_id in touched or batch.status == BatchStatus.RUNNING:
        if complete_if_done(deps, batch.batch_id):
            report.completed_batches += 1
        elif _dispatch_stalled(batch, stall_cutoff):
            # The step that advanced next_pos died before sending the next one; duplicates are harmless.
            deps.queues.send(CONTROL_QUEUE, ControlMessage.dispatch(batch.batch_id, batch.next_pos))
            report.resumed_dispatches += 1
    elif missed_start(batch, now) and batch.start_token:
        deliver_start(deps, batch.batch_id, batch.start_token, now)
        report.restarted_batches += 1
    elif fold_ended(deps, batch):  # completed, its counters still on its agent's shards
        report.folded_batches += 1
    elif batch.status in ENDED_EARLY:  # stopped: its cancel walk stalled, or its closing was lost
        report.resumed_cancels += resume_settling(deps, batch, stall_cutoff)
