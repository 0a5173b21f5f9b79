"""A batch's budget: `max_spend`, against the cost its calls recorded (`spend`, kept in the batch's atomic
counters in the same transaction as each outcome).

When the recorded cost reaches the budget the batch pauses itself (`pause_reason: budget_reached`, a
conditional write, so exactly once per budget) and its status webhook says so; calls already live finish.
From the moment `spend >= max_spend` no call is claimed (the claim's transaction requires the batch within
budget), so the pause cannot race a dial. Resuming needs a budget above the spend.
"""

from __future__ import annotations

from datetime import datetime

from .. import clock
from ..domain.batch_status import BatchStatus
from ..domain.call_status import CallStatus, rank
from ..domain.records import Agent, Batch, Execution
from ..errors import Conflict, NotFound
from ..store.batches import Ended
from ..store.dynamo import Fields, Request
from ..store.leases import agent_key
from .container import Dependencies
from .warm_cache import WarmCache
from .webhooks import emit_batch_event

BUDGET_REACHED = "budget_reached"
AGENT_BUDGET_REACHED = "agent_budget_reached"
_agents: WarmCache[tuple[str, str], Agent | None] = WarmCache(seconds=30.0)


def spent(batch: Batch) -> bool:
    return batch.max_spend is not None and float(batch.spend or 0) >= float(batch.max_spend)


def pause_if_spent(deps: Dependencies, batch_id: str) -> bool:
    """After an outcome: pause the running batch whose recorded cost reached its budget. True for the one caller
    that paused it; a repeated call (a redelivered event) announces again under the same event id."""
    batch = deps.batches.find(batch_id)
    if batch is None or not spent(batch):
        return False
    if batch.status == BatchStatus.PAUSED and batch.pause_reason == BUDGET_REACHED:
        _announce(deps, batch)
        return False
    if batch.status != BatchStatus.RUNNING:
        return False
    try:
        batch = deps.batches.transition(
            batch_id,
            (BatchStatus.RUNNING,),
            BatchStatus.PAUSED,
            set_fields={"pause_reason": BUDGET_REACHED, "paused_at": clock.now_iso()},
            require_spent=True,
            spent_against=float(batch.max_spend or 0),
            shards=batch.counter_shards,
            co=batch.co_key,
        )
    except Conflict:
        return False  # paused, stopped or completed meanwhile
    _announce(deps, batch)
    return True


def _announce(deps: Dependencies, batch: Batch) -> None:
    details = {"pause_reason": BUDGET_REACHED, "spend": batch.spend, "max_spend": batch.max_spend}
    emit_batch_event(deps, batch, "paused", details, occurrence=str(batch.max_spend))


def check_resumable(deps: Dependencies, batch: Batch, max_spend: float | None) -> Fields:
    """The fields a resume sets: a new budget must be above the spend; a spent batch needs one; an agent
    whose month reached its budget resumes nothing until the budget is raised or the month ends."""
    _check_agent_month(deps, batch)
    spend = float(batch.spend or 0)
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
            f"the batch spent {spend:g} of its max_spend {float(batch.max_spend or 0):g}: "
            "resume with a higher max_spend",
            code="budget_reached",
            details=[{"field": "max_spend", "spend": spend, "max_spend": batch.max_spend}],
        )
    return {}


# --- an agent's monthly budget ------------------------------------------------------------------------


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def month_cost_elements(deps: Dependencies, execution: Execution, fields: Fields) -> list[Request]:
    """For an attempt's outcome transaction: its cost added to its agent's calendar month (UTC), when it has one
    and the agent has a monthly budget (without one, nothing reads the month: two write units saved per call;
    a budget set mid-month counts the cost from then on)."""
    cost = Ended.of(fields).cost
    if not cost or rank(execution.status) < rank(CallStatus.INITIATED):
        return []
    agent = _agent(deps, execution.tenant_id, execution.agent_id)
    if agent is None or agent.monthly_max_spend is None:
        return []
    key = agent_key(execution.tenant_id, execution.agent_id)
    return [deps.leases.month_spend_element(key, month_of(clock.now()), cost)]


def _agent(deps: Dependencies, tenant_id: str, agent_id: str, fresh: bool = False) -> Agent | None:
    """Budgets change rarely and every outcome asks: cached briefly per warm container (`fresh`: read now)."""

    def load() -> Agent | None:
        try:
            return deps.agents.get(tenant_id, agent_id)
        except NotFound:
            return None

    return _agents.get((tenant_id, agent_id), load, fresh=fresh)


def month_budget(deps: Dependencies, tenant_id: str, agent_id: str, fresh: bool = False) -> tuple[float, float] | None:
    """(this month's recorded cost, the monthly budget) of an agent that has one."""
    agent = _agent(deps, tenant_id, agent_id, fresh)
    budget = agent.monthly_max_spend if agent else None
    if budget is None:
        return None
    return deps.leases.month_spend(agent_key(tenant_id, agent_id), month_of(clock.now())), float(budget)


def claim_checks(deps: Dependencies, agent: Agent) -> list[Request]:
    """For a claim's transaction: the agent's month still under its budget, when it has one."""
    budget = agent.monthly_max_spend
    if budget is None:
        return []
    key = agent_key(agent.tenant_id, agent.agent_id)
    return [deps.leases.month_budget_check(key, month_of(clock.now()), float(budget))]


def pause_agent_if_spent(deps: Dependencies, tenant_id: str, agent_id: str) -> int:
    """After a costed outcome: when the agent's month reached its budget, pause its running batches."""
    found = month_budget(deps, tenant_id, agent_id)
    if found is None or found[0] < found[1]:
        return 0
    paused = 0
    for batch in deps.batches.list_for_agent(tenant_id, agent_id):
        if batch.status != BatchStatus.RUNNING:
            continue
        try:
            batch = deps.batches.transition(
                batch.batch_id,
                (BatchStatus.RUNNING,),
                BatchStatus.PAUSED,
                set_fields={"pause_reason": AGENT_BUDGET_REACHED, "paused_at": clock.now_iso()},
            )
        except Conflict:
            continue
        paused += 1
        details = {"pause_reason": AGENT_BUDGET_REACHED, "agent_month_spend": found[0], "monthly_max_spend": found[1]}
        occurrence = f"agent:{month_of(clock.now())}:{found[1]}"
        emit_batch_event(deps, batch, "paused", details, occurrence=occurrence)
    return paused


def _check_agent_month(deps: Dependencies, batch: Batch) -> None:
    found = month_budget(deps, batch.tenant_id, batch.agent_id, fresh=True)  # a PATCH may just have raised it
    if found is not None and found[0] >= found[1]:
        raise Conflict(
            f"agent {batch.agent_id} spent {found[0]:g} of its monthly_max_spend {found[1]:g} this month: "
            "raise it (PATCH /agents/{id}) or wait for the next month",
            code="agent_budget_reached",
            details=[{"field": "monthly_max_spend", "spend": found[0], "monthly_max_spend": found[1]}],
        )
