"""`GET /batches/{id}/plan`: when each contact can first be dialled and what the campaign will take, placing no call.

One pass over the batch's contact chunks (S3, one chunk in memory at a time) asks the calling rules
once per distinct zone set (domain/plan.py), then the deterministic projection runs the campaign
forward with the batch's live-call limit, pacing and retry config. The CSV form streams the same pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .. import clock
from ..domain.batch_status import BatchStatus
from ..domain.batches import spreadsheet_safe
from ..domain.calling_window import CallingWindow
from ..domain.contact_limits import ContactLimit, NumberState
from ..domain.plan import (
    DEFAULT_ANSWER_RATE,
    DEFAULT_MEAN_CALL_SECONDS,
    DEFAULT_PRICE_PER_MINUTE,
    DEFAULT_RING_SECONDS,
    NOW,
    WAIT_REASONS,
    Assumptions,
    Capacity,
    FirstDial,
    FirstDials,
    Histogram,
    NumberLimits,
    PlanQuery,
    Projection,
    project,
    with_number,
)
from ..domain.records import Agent, Batch, StoredContact
from ..domain.retry import RetryConfig
from ..errors import Conflict
from .container import Dependencies
from .dialing import DEFAULT_CALLS_PER_SECOND
from .dispatch import capacity
from .number_guard import agent_limit

PLANNABLE = frozenset({BatchStatus.CREATED, BatchStatus.SCHEDULED, BatchStatus.RUNNING, BatchStatus.PAUSED})
HISTORY_MIN_CALLS = 50  # finished attempts of the agent's ended batches before its history replaces a default
BUCKET = timedelta(hours=1)
CSV_COLUMNS = ("contact_number", "row", "first_dial_at", "reason")


@dataclass(frozen=True)
class PlanInput:
    batch: Batch
    agent: Agent
    start: datetime
    rules: FirstDials
    first_position: int  # contacts before it were already handed to the dialer (a running or paused batch)
    limit: ContactLimit | None  # the agent's contact limit, which the claim applies (bypass or not)
    numbers_matter: bool  # a limit applies or the tenant has suppressed numbers: read the numbers' items


def _input(deps: Dependencies, tenant_id: str, batch_id: str) -> PlanInput:
    batch = deps.batches.get(tenant_id, batch_id)
    if batch.status not in PLANNABLE:
        raise Conflict(
            f"batch {batch_id} is {batch.status}: a plan is made for a created, scheduled, running or paused batch",
            code="invalid_state",
            details=[{"status": batch.status}],
        )
    agent = deps.agents.get(tenant_id, batch.agent_id)
    now = clock.now()
    start = now
    if batch.status == BatchStatus.SCHEDULED and batch.scheduled_at:
        start = max(now, clock.parse_iso(batch.scheduled_at))
    window = None if batch.bypass_call_guardrails else CallingWindow.from_agent(agent, batch)
    first = 0 if batch.status in (BatchStatus.CREATED, BatchStatus.SCHEDULED) else batch.next_pos
    limit = agent_limit(agent)
    numbers_matter = limit is not None or deps.numbers.has_any(tenant_id)
    return PlanInput(batch, agent, start, FirstDials(window, agent.timezone, start), first, limit, numbers_matter)


def _contacts(deps: Dependencies, plan: PlanInput) -> Iterator[tuple[StoredContact, FirstDial, NumberState | None]]:
    """Every contact still to be dispatched with its first possible dial, chunk by chunk."""
    batch = plan.batch
    size, total = batch.chunk_size, batch.valid_contacts
    if not size or plan.first_position >= total:
        return
    chunk, offset = divmod(plan.first_position, size)
    max_wait = timedelta(hours=deps.settings.contact_limit_max_wait_hours)
    while chunk * size < total:
        contacts = deps.blobs.read_chunk(batch.batch_id, chunk)[offset:]
        states = _number_states(deps, plan, contacts)
        for contact in contacts:
            dial = plan.rules.of(contact["n"], contact.get("z"))  # chunks stored before `z` existed: looked up
            state = states.get(contact["n"])
            if state is not None:
                dial = with_number(dial, state, plan.limit, max_wait, plan.rules)
            yield contact, dial, state
        chunk, offset = chunk + 1, 0


def _number_states(deps: Dependencies, plan: PlanInput, contacts: list[StoredContact]) -> dict[str, NumberState]:
    """The chunk's numbers' items (suppression, claim history): one BatchGetItem per 100 contacts, and none
    at all for a tenant that never suppressed a number and an agent without a contact limit."""
    if not plan.numbers_matter or not contacts:
        return {}
    numbers = [contact["n"] for contact in contacts]
    return deps.numbers.states_among(plan.batch.tenant_id, numbers, history=plan.limit is not None)


def _history(deps: Dependencies, tenant_id: str, agent_id: str) -> dict[str, float] | None:
    """The agent's own finished calls (counters kept on its batches), when there are enough of them."""
    ended = answered = talk = spend = 0.0
    for batch in deps.batches.list_for_agent(tenant_id, agent_id):
        ended += float(batch.ended_calls or 0)
        answered += float(batch.answered_calls or 0)
        talk += float(batch.talk_seconds or 0)
        spend += float(batch.spend or 0)
    if ended < HISTORY_MIN_CALLS or not answered:
        return None
    history = {"answer_rate": answered / ended, "mean_call_seconds": talk / answered}
    if talk:
        history["price_per_minute"] = spend / (talk / 60)
    return history


def assumptions(deps: Dependencies, tenant_id: str, agent: Agent, query: PlanQuery) -> Assumptions:
    """Each assumption from the query, else the agent's price or finished-call history, else a default."""
    history = None
    if query.mean_call_seconds is None or query.answer_rate is None or query.price_per_minute is None:
        history = _history(deps, tenant_id, agent.agent_id)
    configured = (agent.provider_config or {}).get("cost_per_minute")
    defaults = {
        "mean_call_seconds": DEFAULT_MEAN_CALL_SECONDS,
        "answer_rate": DEFAULT_ANSWER_RATE,
        "price_per_minute": DEFAULT_PRICE_PER_MINUTE,
        "ring_seconds": DEFAULT_RING_SECONDS,
    }
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    for name, default in defaults.items():
        asked = getattr(query, name)
        if asked is not None:
            values[name], sources[name] = float(asked), "query"
        elif name == "price_per_minute" and configured is not None:
            values[name], sources[name] = float(configured), "agent_provider_config"
        elif history is not None and name in history:
            values[name], sources[name] = round(history[name], 4), "agent_history"
        else:
            values[name], sources[name] = default, "default"
    return Assumptions(sources=sources, **values)


def _retry_config(batch: Batch) -> RetryConfig | None:
    return RetryConfig.model_validate(batch.retry_config) if batch.retry_config else None


@dataclass
class FirstDialPass:
    """One pass over the contacts: counts by reason, the histogram, each contact's first dial, and (with a
    contact limit) the numbers' earlier claims for the projection's retries."""

    counts: dict[str, int]
    histogram: Histogram
    dials: list[tuple[int, FirstDial]]
    number_limits: NumberLimits | None


def _first_dials(deps: Dependencies, plan: PlanInput) -> FirstDialPass:
    number_limits = None
    if plan.limit is not None:
        number_limits = NumberLimits(plan.limit, timedelta(hours=deps.settings.contact_limit_max_wait_hours))
    out = FirstDialPass(dict.fromkeys((NOW, *WAIT_REASONS), 0), Histogram(plan.start, BUCKET), [], number_limits)
    for contact, dial, state in _contacts(deps, plan):
        out.counts[dial.reason] += 1
        if dial.at is not None:
            out.histogram.add(dial.at)
        out.dials.append((int(contact["i"]), dial))
        if number_limits is not None and state is not None and state.attempts:
            number_limits.claims[int(contact["i"])] = list(state.attempts)
    return out


def batch_plan(deps: Dependencies, tenant_id: str, batch_id: str, query: PlanQuery) -> dict[str, Any]:
    """The plan as `GET /batches/{id}/plan` answers it (see bodies.BatchPlan)."""
    plan = _input(deps, tenant_id, batch_id)
    batch, agent = plan.batch, plan.agent
    found = _first_dials(deps, plan)
    counts, histogram, dials = found.counts, found.histogram, found.dials
    limits = Capacity(
        live_calls=capacity(batch, agent),
        calls_per_second=agent.calls_per_second or DEFAULT_CALLS_PER_SECOND.get(agent.provider),
    )
    assumed = assumptions(deps, tenant_id, agent, query)
    retry = _retry_config(batch)
    projection = project(dials, plan.rules, limits, assumed, retry, found.number_limits)
    return {
        "batch_id": batch_id,
        "status": batch.status,
        "computed_at": clock.now_iso(),
        "start_at": clock.iso(plan.start),
        "contacts": {
            "planned": len(dials),
            "already_dispatched": plan.first_position,
            "callable_at_start": counts[NOW],
            "waiting": {reason: counts[reason] for reason in WAIT_REASONS},
        },
        "first_dial_histogram": {
            "bucket_seconds": int(BUCKET.total_seconds()),
            "buckets": [{"start": clock.iso(at), "contacts": n} for at, n in histogram.buckets()],
        },
        "projection": _projection(projection),
        "assumptions": {
            "live_call_limit": limits.live_calls,
            "calls_per_second": limits.calls_per_second,
            "retry_config": retry.model_dump() if retry else None,
            "bypass_call_guardrails": batch.bypass_call_guardrails,
            "mean_call_seconds": assumed.mean_call_seconds,
            "answer_rate": assumed.answer_rate,
            "price_per_minute": assumed.price_per_minute,
            "ring_seconds": assumed.ring_seconds,
            "sources": assumed.sources,
        },
        "method": METHOD,
    }


def _projection(result: Projection) -> dict[str, Any]:
    def at(moment: datetime | None) -> str | None:
        return clock.iso(moment) if moment is not None else None

    duration = (
        (result.completion_at - result.first_dial_at).total_seconds()
        if result.completion_at and result.first_dial_at
        else None
    )
    return {
        "first_dial_at": at(result.first_dial_at),
        "last_dial_at": at(result.last_dial_at),
        "completion_at": at(result.completion_at),
        "duration_seconds": duration,
        "attempts": result.attempts,
        "answered": result.answered,
        "retries": result.retries,
        "never_dialled": result.never_dialled,
        "peak_live_calls": result.peak_live_calls,
        "mean_live_calls": result.mean_live_calls,
        "talk_minutes": round(result.talk_seconds / 60, 2),
        "cost": result.cost,
    }


def plan_csv_rows(deps: Dependencies, tenant_id: str, batch_id: str) -> Iterator[list[str]]:
    """The header, then each contact still to be dispatched: number, CSV row, first possible dial time, reason."""
    plan = _input(deps, tenant_id, batch_id)
    yield list(CSV_COLUMNS)
    for contact, dial, _ in _contacts(deps, plan):
        when = clock.iso(dial.at) if dial.at is not None else ""
        yield [spreadsheet_safe(contact["n"]), str(contact.get("row") or ""), when, dial.reason]


METHOD = (
    "Contacts: each contact not yet handed to the dialer is read from the batch's stored contact chunks; its "
    "first possible dial time is the first instant at or after start_at that the calling rules allow on the "
    "recipient's clock in every candidate time zone of the number (the same is_open/next_open the dialer uses, "
    "asked once per distinct zone set); `now` means callable at start_at. bypass_call_guardrails makes every "
    "contact callable at start_at. Then the number's own item, as the dialer's claim reads it at that first "
    "dial: suppressed then (`suppressed`) is never dialled; over the agent's contact limit (`contact_limit`) "
    "waits until its window frees a slot and the rules are open, or is never dialled when that is beyond "
    "CONTACT_LIMIT_MAX_WAIT_HOURS. Projection: a deterministic discrete-event run of the campaign. Attempts "
    "start in order of readiness when a live-call slot is free (live_call_limit) and the pacing allows "
    "(calls_per_second); a start the rules forbid by then takes no slot and waits, with the other attempts of "
    "its zone set, for their next open second. An attempt is "
    "answered or not by a fixed evenly spread sequence whose share answered is answer_rate; it holds its slot "
    "ring_seconds, plus mean_call_seconds of talk when answered; an unanswered attempt is retried per "
    "retry_config (as a `no-answer`) after its interval. Cost is talk minutes times price_per_minute. "
    "mean_live_calls is slot-seconds held divided by the span from first dial to completion. Calls of other "
    "batches sharing the agent's limit, dispatch latency and calls already live are not modelled. With a contact "
    "limit, a retry's claim counts the number's earlier claims and this batch's own attempts: over the limit it "
    "waits for the window to free a slot, or is dropped when that is beyond CONTACT_LIMIT_MAX_WAIT_HOURS."
)
