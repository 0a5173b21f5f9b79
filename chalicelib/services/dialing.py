"""Place one call: inside the recipient's calling hours, with a free live-call slot, claim the
execution exactly once, then place the call through the agent's provider.

The claim is one transaction: the execution leaves `queued` (or `rescheduled`), the batch
must be running and under its own cap, the number must not be suppressed nor over its contact
limit (one element, `number_guard.py`), the agent's live-call counter must be under its
limit, and a lease records the slot. A redelivered message finds the claim taken; a stop
that returned first makes the claim fail; no slot means the message waits (re-sent with a
growing delay, never failed, never lost). The provider is called only after the claim.

The provider request is paced to the account's calls per second. A rejection fails the call; a 5xx
or a timeout tries again with backoff, then ends it in `error`; a rate limit slows the account down
and never fails the call (up to MAX_RATE_LIMITED times). A request the provider may have acted on (sent,
then no answer) is placed again only where the provider dedupes; otherwise the claim stands and the
provider's report (or, failing that, the sweeper) ends it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache

from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..adapters.secrets import MissingSecret
from ..domain import timeline
from ..domain.arrival import early_until
from ..domain.batch_status import BatchStatus
from ..domain.calling_window import CallingWindow, is_open, recipient_zones
from ..domain.messages import DialMessage
from ..domain.records import Agent, Execution
from ..domain.templates import fill
from ..domain.timeline import Entry
from ..errors import NotFound
from ..observability import count, logger
from ..providers.base import CallRequest, Failure, ProviderError
from ..resources import DIAL_QUEUE
from ..store.batches import SHARD_FIELD as BATCH_SHARD
from ..store.batches import pick_shard
from ..store.dynamo import Fields
from ..store.execution_item import CO_COUNTED
from ..store.executions import BatchNotRunning, GuardRefused, NoFreeSlot, StaleTransition, StaleWait
from ..store.leases import LEASE, SHARD_FIELD, agent_key, claim_order, share
from .budget import claim_checks
from .container import Dependencies
from .dial_waits import again, later, rule_fields, unplaced, wait_again, wait_for_window
from .number_guard import guard_element
from .number_guard import refused as number_refused
from .warm_cache import WarmCache

PAUSED_RECHECK_SECONDS = 15
DEADLINE_MARGIN_MS = 3000  # claiming, pacing and recording the call around the provider request
NO_BATCH_CAP = 1_000_000
EARLY_TOLERANCE = timedelta(seconds=1)
DEFAULT_CALLS_PER_SECOND = {"twilio": 1.0}  # a Twilio account's default; set the agent's calls_per_second
MAX_RATE_LIMITED = 20
RATE_LIMIT_PAUSE_SECONDS = 5.0  # when a rate-limit answer has no Retry-After
MAX_BACKOFF_SECONDS = 60
MAYBE_PLACED = "the call may have been placed, so it is not placed again; waiting for the provider's report"

_agents: WarmCache[tuple[str, str], Agent] = WarmCache(seconds=30.0)


def _agent(deps: Dependencies, tenant_id: str, agent_id: str) -> Agent:
    """Agents change rarely and every call needs one: cache them briefly per warm container."""
    return _agents.get((tenant_id, agent_id), lambda: deps.agents.get(tenant_id, agent_id))


@lru_cache(maxsize=8192)
def _zones(number: str, default_timezone: str | None) -> tuple[str, ...]:
    return tuple(recipient_zones(number, default_timezone))


def _calling_hours(message: DialMessage, agent: Agent) -> tuple[CallingWindow, tuple[str, ...]] | None:
    """The calling rules for this number (the agent's, each replaced by the batch's own when set) and the time
    zones the number may be in; None when the batch bypasses them."""
    if message.bypass_window:
        return None
    window = CallingWindow.from_agent(agent, message.rules).for_number(message.to)
    return window, _zones(message.to, agent.timezone)


def slot_wait_seconds(waits: int) -> int:
    """1 s, then 2 s after ten waits: with the backlog bounded at twice the limit, a freed slot is
    taken within a second or so, and a waiting call costs one conditional write every 2 s."""
    return min(2, 1 + waits // 10)


def place_one_call(deps: Dependencies, message: DialMessage, remaining_ms: Callable[[], int] | None = None) -> None:
    """`remaining_ms`: the invocation's time left; a call that might not be placed before the Lambda
    timeout is handed back to the queue untouched (acknowledged, so it does not count toward the DLQ)."""
    if remaining_ms is not None and remaining_ms() < deps.settings.provider_timeout_seconds * 1000 + DEADLINE_MARGIN_MS:
        deps.queues.send(DIAL_QUEUE, message.again(), 0)
        count("DialsHandedBack")
        return
    now = clock.now()
    due = early_until(message.not_before, now, EARLY_TOLERANCE)
    if due is not None:
        later(deps, message, due)  # a Scheduler delivery a few seconds early
        return
    expected = message.expected()
    try:
        agent = _agent(deps, message.tenant_id, message.agent_id)
    except NotFound:
        unplaced(deps, expected, "error", "the agent was deleted before the call was placed")
        return
    if message.expect_status == "initiated":  # claimed before; its placement was retried or paced
        claimed = _still_to_place(deps, message)
        hours = _calling_hours(message, agent) if claimed is not None else None
        if claimed is not None and hours is not None and not is_open(*hours, now):
            wait_for_window(deps, message, claimed, hours, now)
            return
    else:
        hours = _calling_hours(message, agent)
        if hours is not None and not is_open(*hours, now):
            wait_for_window(deps, message, expected, hours, now)
            return
        claimed = _claim(deps, message, expected, agent, now, rule_fields(hours))
    if claimed is not None:
        _placed(deps, message, agent.provider, place(deps, message, agent, claimed))


def _placed(deps: Dependencies, message: DialMessage, provider: str, call_id: str | None) -> None:
    """Record the provider's call id (None: the call was paced or failed, and that was handled), and the
    request and its answer on the call's timeline, in the same write."""
    if call_id is None:
        return
    count("CallsPlaced")
    now = clock.now_iso()
    notes = [
        timeline.provider_request(provider, message.to, message.from_number, message.attempt, now),
        timeline.provider_answer(provider, f"accepted: call id {call_id}", now),
    ]
    deps.executions.set_fields(message.execution_id, {"provider_call_id": call_id, "placed_at": now}, notes=notes)
    logger.info("call placed", extra={"to": message.to, "attempt": message.attempt})


def _claim(
    deps: Dependencies,
    message: DialMessage,
    expected: Execution,
    agent: Agent,
    now: datetime,
    recorded: dict[str, str | None],
) -> Execution | None:
    """`recorded`: what the execution keeps of the rules it was held to (`rule_fields`). The agent's live-call
    slots are counted in shards (store/leases.py): when its own shard refuses, the claim reads every shard's
    counter and tries those with room, so an agent at its limit costs one refused transaction and one read."""
    limit, key = int(agent.max_concurrent_calls or 1), agent_key(message.tenant_id, message.agent_id)
    co = (message.batch_id, int(message.batch_co)) if message.batch_co else (None, 0)
    order = claim_order(message.execution_id, limit, *co)
    try:
        while order:
            try:
                return _claim_in(deps, message, expected, agent, now, recorded, order.pop(0))
            except NoFreeSlot:  # nothing was written; with shards, one read says which still have a slot
                room = deps.leases.shards_with_room(key, limit) if order else set()
                order = [s for s in order if s in room]
    except StaleWait:  # a copy of a waiting message that is not the live one (dial_waits.wait_again)
        count("WaitCopiesDropped")
        return None
    except StaleTransition:
        # Already claimed (a redelivery), canceled, never created (a retry that lost its race), or rescheduled
        return _claim_moved(deps, message, agent, now, recorded)
    except BatchNotRunning:
        _not_running(deps, message, expected)
        return None
    except GuardRefused as refusal:
        number_refused(deps, message, expected, agent, refusal, now)
        return None
    _wait_for_slot(deps, message)
    return None


def _claim_in(
    deps: Dependencies,
    message: DialMessage,
    expected: Execution,
    agent: Agent,
    now: datetime,
    recorded: dict[str, str | None],
    shard: int,
) -> Execution:
    """One claim transaction, its live-call slot taken in `shard` (recorded on the execution unless 0, the
    agent's only shard under 2 x MIN_SHARE calls, so its release frees that shard). A batch that counts on its
    agent's shards (`batch_co`) counts this call on `shard` in the same element as the slot (recorded as CO_COUNTED,
    shard + 1, so every later count of the call, and its slot's release, goes there)."""
    lease_until = clock.iso(now + timedelta(seconds=deps.settings.call_report_timeout_seconds))
    limit = int(agent.max_concurrent_calls or 1)
    co = bool(message.batch_co)
    slot = [] if co else deps.leases.take_elements(agent_key(message.tenant_id, message.agent_id), limit, shard)
    return deps.executions.move(
        expected,
        "initiated",
        {
            "claimed_at": clock.iso(now),
            "provider": agent.provider,
            "from_number": message.from_number,
            LEASE: lease_until,  # the live-call slot's lease, on the execution itself (no lease item)
            **recorded,
            **({SHARD_FIELD: shard} if shard else {}),
            **({CO_COUNTED: shard + 1} if co else _batch_shard(message)),
        },
        batch_must_run=True,
        batch_live_cap=message.batch_cap or NO_BATCH_CAP,
        guard=guard_element(deps, message, agent, now),  # the number: not suppressed, under its contact limit
        wait=(message.wait_token, message.wait_parent),  # only the live copy of a waiting message claims
        extra=[*slot, *claim_checks(deps, agent)],
        slot_limit=share(limit, shard) if co else None,
    )


def _claim_moved(
    deps: Dependencies, message: DialMessage, agent: Agent, now: datetime, recorded: dict[str, str | None]
) -> Execution | None:
    """The claim found the execution moved on. A message that expected it `queued` and finds it `rescheduled` is
    a redelivery whose earlier try moved it there (calling hours, a contact limit), then died before creating the
    wake-up: this delivery is its wake-up, and claims it from there (chaos seeds 141, 868: else it waits forever).
    The claim from `rescheduled` is conditional too: a wake-up that did get created finds it claimed."""
    idempotent = deps.providers[agent.provider].idempotent(agent)
    if message.expect_status != "queued" and not idempotent:
        return None  # nothing to read: a duplicate of a wake-up or a slot wait, beaten by its twin
    execution = deps.executions.find(message.execution_id)
    if execution is not None and execution.status == "rescheduled" and message.expect_status == "queued":
        count("WakeUpsRecovered")
        woken = message.again(expect_status="rescheduled")
        return _claim(deps, woken, woken.expected(), agent, now, recorded)
    return _claimed_never_placed(execution) if idempotent else None


def _batch_shard(message: DialMessage) -> Fields:
    """The batch counter shard this claim counts in, recorded on the execution so its end counts there too."""
    shard = pick_shard(message.execution_id, message.batch_shards or 0)
    return {BATCH_SHARD: shard} if shard else {}


def _claimed_never_placed(execution: Execution | None) -> Execution | None:
    """A redelivered message whose claim stands but whose call was never recorded as placed: the dialer
    died in between. With an idempotent provider, placing it again makes no second call."""
    if (
        execution is None
        or execution.status != "initiated"
        or execution.provider_call_id
        or execution.place_token  # a placement retry owns it
    ):
        return None
    count("ClaimsResumed")
    return execution


def _still_to_place(deps: Dependencies, message: DialMessage) -> Execution | None:
    """A claimed call coming back to be placed: only if nothing placed, finished or stopped it meanwhile."""
    if not message.place_token or not deps.executions.take_place_token(message.execution_id, message.place_token):
        return None  # a duplicate delivery, or placed, finished or swept meanwhile
    execution = deps.executions.find(message.execution_id)
    if execution is None or execution.status != "initiated" or execution.provider_call_id:
        return None
    batch = deps.batches.find(message.batch_id)
    if batch is not None and batch.status == BatchStatus.PAUSED:
        again(deps, message, PAUSED_RECHECK_SECONDS)
        return None
    if batch is None or batch.status != BatchStatus.RUNNING:
        unplaced(deps, execution, "canceled", "the batch was stopped before this call was placed")
        return None
    return execution


def _wait_for_slot(deps: Dependencies, message: DialMessage) -> None:
    # Hand the message back with a delay; the original is acknowledged only after this send succeeds.
    wait_again(deps, message, slot_wait_seconds(message.waits), waits=message.waits + 1)
    count("CallsWaitingForSlot")  # the operator's sign that an agent's or batch's live-call cap binds


def _not_running(deps: Dependencies, message: DialMessage, expected: Execution) -> None:
    batch = deps.batches.find(message.batch_id, summed=False)
    if batch is not None and not batch.deleted_at:
        if batch.status == BatchStatus.RUNNING:  # running, so its own live-call cap was the limit
            _wait_for_slot(deps, message)
            return
        if batch.status == BatchStatus.PAUSED:
            wait_again(deps, message, PAUSED_RECHECK_SECONDS)
            return
    unplaced(deps, expected, "canceled", "the batch was stopped before this call was placed")


# --- the provider request of a claimed call ---------------------------------------------------


def place(deps: Dependencies, message: DialMessage, agent: Agent, claimed: Execution) -> str | None:
    """Place the claimed call, paced to the account's calls per second: the provider's call id, or None
    when it was paced or failed (handled here: handed back, or ended; never raised)."""
    if not _paced(deps, message, agent):
        return None
    request = _request(deps, message, agent)
    started = time.perf_counter()
    try:
        call_id = deps.providers[agent.provider].place_call(request, agent)
    except ProviderError as exc:
        _placement_failed(deps, message, agent, claimed, exc)
        return None
    except MissingSecret as exc:
        unplaced(deps, claimed, "error", f"provider credentials missing: {exc}")
        return None
    count("DialLatency", (time.perf_counter() - started) * 1000, MetricUnit.Milliseconds)
    return call_id


def _request(deps: Dependencies, message: DialMessage, agent: Agent) -> CallRequest:
    return CallRequest(
        execution_id=message.execution_id,
        batch_id=message.batch_id,
        tenant_id=message.tenant_id,
        agent_id=message.agent_id,
        to_number=message.to,
        from_number=message.from_number,
        welcome_message=fill(agent.welcome_message or "", message.variables),
        prompt=fill(agent.prompt or "", message.variables),
        variables=message.variables,
        attempt=message.attempt,
        callback_url=deps.settings.callback_url(agent.provider, message.execution_id),
    )


def pace_key(agent: Agent) -> str:
    """Calls-per-second limits belong to the provider account: agents sharing credentials share the pace."""
    credentials = (agent.provider_config or {}).get("credentials") or agent.provider
    return f"{agent.tenant_id}#pace#{agent.provider}#{credentials}"


def _paced(deps: Dependencies, message: DialMessage, agent: Agent) -> bool:
    cps = agent.calls_per_second or DEFAULT_CALLS_PER_SECOND.get(agent.provider)
    if not cps:
        return True
    now_ms = int(clock.now().timestamp() * 1000)
    max_wait = int(deps.settings.pacing_max_sleep_seconds * 1000)
    wait = deps.pacer.reserve(pace_key(agent), max(1, round(1000 / float(cps))), now_ms, max_wait)
    if wait >= 0:
        if wait:
            time.sleep(wait / 1000)  # pacing within a second: cheaper than a queue round trip
        return True
    count("CallsPaced")
    again(deps, message, math.ceil(-wait / 1000))
    return False


def _placement_failed(
    deps: Dependencies, message: DialMessage, agent: Agent, claimed: Execution, exc: ProviderError
) -> None:
    """4xx: the call failed. 5xx/timeouts: again with backoff, then error. Rate limits: slow down, never fail."""
    logger.warning("placing the call failed", extra={"kind": exc.kind.value, "reason": exc.message})
    count(f"ProviderFailure_{exc.kind.value}")
    provider = agent.provider
    now = clock.now_iso()
    asked = timeline.provider_request(provider, message.to, message.from_number, message.attempt, now)

    def notes(next_step: str) -> list[Entry]:
        return [asked, timeline.provider_answer(provider, f"{exc.kind.value}: {exc.message}; {next_step}", now)]

    if exc.kind == Failure.UNKNOWN and not deps.providers[provider].idempotent(agent):
        _maybe_placed(deps, claimed, now, notes(MAYBE_PLACED))
    elif exc.kind == Failure.REJECTED:
        unplaced(deps, claimed, "failed", exc.message, notes("the call failed"))
    elif exc.kind == Failure.RATE_LIMITED:
        if message.throttled + 1 >= MAX_RATE_LIMITED:
            reason = f"{exc.message} (rate limited {MAX_RATE_LIMITED} times)"
            unplaced(deps, claimed, "error", reason, notes("given up"))
            return
        delay = exc.retry_after or RATE_LIMIT_PAUSE_SECONDS
        deps.pacer.hold_until(pace_key(agent), int((clock.now().timestamp() + delay) * 1000))
        wait = math.ceil(delay)
        again(deps, message, wait, notes=notes(f"again in {wait} s"), throttled=message.throttled + 1)
    else:
        tries = message.place_tries + 1
        if tries >= deps.settings.provider_max_attempts:
            unplaced(deps, claimed, "error", f"{exc.message} (after {tries} attempts)", notes("given up"))
            return
        backoff = min(MAX_BACKOFF_SECONDS, 2**tries)
        again(deps, message, backoff, notes=notes(f"again in {backoff} s"), place_tries=tries)


def _maybe_placed(deps: Dependencies, claimed: Execution, now: str, notes: list[Entry]) -> None:
    """The provider may have dialled (it cannot dedupe a second request): keep the claim and its slot, as for
    a placed call. Its status callback (our execution id is in its URL) reports the outcome; with none, the
    sweeper ends the attempt in `error` after the claim timeout. Never a second dial."""
    count("PlacementsUnknown")
    deps.executions.set_fields(claimed.execution_id, {"updated_at": now}, only_if_status=["initiated"], notes=notes)
