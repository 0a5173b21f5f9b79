"""Every minute: finish what a crash or a silent provider left behind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .. import clock
from ..domain.batch_status import ENDED_EARLY, BatchStatus
from ..observability import logger
from ..resources import CONTROL_QUEUE
from ..services.calls import finish_call
from ..services.container import Services
from ..services.lifecycle import complete_if_done, deliver_start, dispatch_message, missed_start, resume_settling
from ..store.executions import StaleTransition

STALL_AFTER = timedelta(minutes=2)


def _dispatch_stalled(batch: dict[str, Any], cutoff: str) -> bool:
    return (
        batch["status"] == BatchStatus.RUNNING
        and batch.get("next_pos", 0) < batch["valid_contacts"]
        and batch["updated_at"] < cutoff
    )


@dataclass
class SweepReport:
    unplaced: int = 0
    unreported: int = 0
    completed_batches: int = 0
    restarted_batches: int = 0
    resumed_dispatches: int = 0
    reclaimed_leases: int = 0
    resumed_cancels: int = 0


def sweep(svc: Services) -> SweepReport:
    report = SweepReport()
    now = clock.now()
    claim_cutoff = clock.iso(now - timedelta(seconds=svc.settings.claim_timeout_seconds))
    report_cutoff = clock.iso(now - timedelta(seconds=svc.settings.call_report_timeout_seconds))
    stall_cutoff = clock.iso(now - STALL_AFTER)
    touched: set[str] = set()
    for execution in svc.executions.open_before(claim_cutoff):
        placed = bool(execution.get("provider_call_id"))
        if placed and execution["updated_at"] >= report_cutoff:
            continue  # placed and still within the time a provider may take to report
        reason = (
            f"no final status from the provider within {svc.settings.call_report_timeout_seconds} s"
            if placed
            else "the call was claimed but its placement was never confirmed"
        )
        try:
            finish_call(svc, execution, "error", {"error_message": reason})
        except StaleTransition:
            continue
        touched.add(execution["batch_id"])
        if placed:
            report.unreported += 1
        else:
            report.unplaced += 1
    for lease in svc.leases.expired(clock.iso(now)):
        # Its call was finished above (or earlier) but the release was lost: free the slot.
        if svc.leases.release(lease["agent_key"], lease["lease_id"], lease["batch_id"]):
            report.reclaimed_leases += 1
    for batch in svc.batches.list_active():
        if batch["batch_id"] in touched or batch["status"] == BatchStatus.RUNNING:
            if complete_if_done(svc, batch["batch_id"]):
                report.completed_batches += 1
            elif _dispatch_stalled(batch, stall_cutoff):
                # The step that advanced next_pos died before sending the next one; duplicates are harmless.
                svc.queues.send(CONTROL_QUEUE, dispatch_message(batch["batch_id"], batch["next_pos"]))
                report.resumed_dispatches += 1
        elif missed_start(batch, now) and batch.get("start_token"):
            deliver_start(svc, batch["batch_id"], batch["start_token"], now)
            report.restarted_batches += 1
        elif batch["status"] in ENDED_EARLY:  # stopped: its cancel walk stalled, or its closing was lost
            report.resumed_cancels += resume_settling(svc, batch, stall_cutoff)
    if any(vars(report).values()):
        logger.info("sweep", extra=vars(report))
    return report
