"""A batch's budget: `max_spend`, against the cost its calls recorded (`spend`, kept in the batch's atomic
counters in the same transaction as each outcome).

When the recorded cost reaches the budget the batch pauses itself (`pause_reason: budget_reached`, a
conditional write, so exactly once per budget) and its status webhook says so; calls already live finish.
From the moment `spend >= max_spend` no call is claimed (the claim's transaction requires the batch within
budget), so the pause cannot race a dial. Resuming needs a budget above the spend.
"""

from __future__ import annotations

from typing import Any

from .. import clock
from ..domain.batch_status import BatchStatus
from ..errors import Conflict
from .container import Services
from .webhooks import emit_batch_event

BUDGET_REACHED = "budget_reached"


def spent(batch: dict[str, Any]) -> bool:
    budget = batch.get("max_spend")
    return budget is not None and float(batch.get("spend") or 0) >= float(budget)


def pause_if_spent(svc: Services, batch_id: str) -> bool:
    """After an outcome: pause the running batch whose recorded cost reached its budget. True for the one caller
    that paused it; a repeated call (a redelivered event) announces again under the same event id."""
    batch = svc.batches.find(batch_id)
    if batch is None or not spent(batch):
        return False
    if batch["status"] == BatchStatus.PAUSED and batch.get("pause_reason") == BUDGET_REACHED:
        _announce(svc, batch)
        return False
    if batch["status"] != BatchStatus.RUNNING:
        return False
    try:
        batch = svc.batches.transition(
            batch_id,
            (BatchStatus.RUNNING,),
            BatchStatus.PAUSED,
            set_fields={"pause_reason": BUDGET_REACHED, "paused_at": clock.now_iso()},
            require_spent=True,
        )
    except Conflict:
        return False  # paused, stopped or completed meanwhile
    _announce(svc, batch)
    return True


def _announce(svc: Services, batch: dict[str, Any]) -> None:
    details = {"pause_reason": BUDGET_REACHED, "spend": batch.get("spend"), "max_spend": batch.get("max_spend")}
    emit_batch_event(svc, batch, "paused", details, occurrence=str(batch.get("max_spend")))


def check_resumable(batch: dict[str, Any], max_spend: float | None) -> dict[str, Any]:
    """The fields a resume sets: a new budget must be above the spend; a spent batch needs one."""
    spend = float(batch.get("spend") or 0)
    if max_spend is not None:
        if max_spend <= spend:
            raise Conflict(
                f"max_spend {max_spend:g} is not above the batch's recorded spend {spend:g}",
                code="budget_too_low",
                details=[{"field": "max_spend", "spend": spend}],
            )
        return {"max_spend": max_spend}
    if spent(batch):
        raise Conflict(
            f"the batch spent {spend:g} of its max_spend {float(batch['max_spend']):g}: resume with a higher max_spend",
            code="budget_reached",
            details=[{"field": "max_spend", "spend": spend, "max_spend": batch["max_spend"]}],
        )
    return {}
