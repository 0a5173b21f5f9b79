"""Dial-queue consumer: inside the recipient's calling hours, with a free live-call slot,
claim each execution exactly once, then place the call.

The claim is one transaction: the execution leaves `queued` (or `rescheduled`), the batch
must be running and under its own cap, the agent's live-call counter must be under its
limit, and a lease records the slot. A redelivered message finds the claim taken; a stop
that returned first makes the claim fail; no slot means the message waits (re-sent with a
growing delay, never failed, never lost). The provider is called only after the claim.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..adapters.secrets import MissingSecret
from ..domain.batch_status import BatchStatus
from ..domain.calling_window import CallingWindow, is_open, next_open, recipient_zones
from ..domain.messages import DialMessage
from ..domain.templates import fill
from ..errors import NotFound
from ..observability import count, logger
from ..providers.base import CallRequest, Failure, ProviderError
from ..resources import DIAL_QUEUE
from ..services.calls import finish_call
from ..services.container import Services
from ..services.webhooks import emit_batch_event
from ..store.executions import BatchNotRunning, NoFreeSlot, StaleTransition
from ..store.leases import agent_key

PAUSED_RECHECK_SECONDS = 15
DEFAULT_CALLS_PER_SECOND = {"twilio": 1.0}  # a Twilio account's default; set the agent's calls_per_second
MAX_RATE_LIMITED = 20
RATE_LIMIT_PAUSE_SECONDS = 5.0  # when a rate-limit answer has no Retry-After
MAX_BACKOFF_SECONDS = 60
DEADLINE_MARGIN_MS = 3000  # claiming, pacing and recording the call around the provider request
AGENT_CACHE_SECONDS = 30.0
NO_BATCH_CAP = 1_000_000
LIVE = ("initiated", "ringing", "in-progress")

_agents: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


def _agent(svc: Services, tenant_id: str, agent_id: str) -> dict[str, Any]:
    """Agents change rarely and every call needs one: cache them briefly per warm container."""
    key = (tenant_id, agent_id)
    hit = _agents.get(key)
    if hit and time.monotonic() - hit[0] < AGENT_CACHE_SECONDS:
        return hit[1]
    agent = svc.agents.get(tenant_id, agent_id)
    _agents[key] = (time.monotonic(), agent)
    return agent


@lru_cache(maxsize=8192)
def _zones(number: str, default_timezone: str | None) -> tuple[str, ...]:
    return tuple(recipient_zones(number, default_timezone))


def slot_wait_seconds(waits: int) -> int:
    """1 s, then 2 s after ten waits: with the backlog bounded at twice the limit, a freed slot is
    taken within a second or so, and a waiting call costs one conditional write every 2 s."""
    return min(2, 1 + waits // 10)


def handle_dial(svc: Services, message: DialMessage, remaining_ms: Callable[[], int] | None = None) -> None:
    """`remaining_ms`: the invocation's time left; a call that might not be placed before the Lambda
    timeout is handed back to the queue untouched (acknowledged, so it does not count toward the DLQ)."""
    if remaining_ms is not None and remaining_ms() < svc.settings.provider_timeout_seconds * 1000 + DEADLINE_MARGIN_MS:
        svc.queues.send(DIAL_QUEUE, message.again(), 0)
        count("DialsHandedBack")
        return
    now = clock.now()
    if message.not_before and clock.parse_iso(message.not_before) > now + timedelta(seconds=1):
        _later(svc, message, clock.parse_iso(message.not_before))  # a Scheduler delivery a few seconds early
        return
    expected = {
        "execution_id": message.execution_id,
        "batch_id": message.batch_id,
        "tenant_id": message.tenant_id,
        "agent_id": message.agent_id,
        "status": message.expect_status,
        "contact_index": message.contact_index,
        "attempt": message.attempt,
        "user_number": message.to,
        "from_number": message.from_number,
        "recipient_data": message.variables,
    }
    try:
        agent = _agent(svc, message.tenant_id, message.agent_id)
    except NotFound:
        _unplaced(svc, expected, "error", "the agent was deleted before the call was placed")
        return
    if message.expect_status == "initiated":  # claimed before; its placement was retried or paced
        claimed = _still_to_place(svc, message)
        if claimed is None or (not message.bypass_window and not _in_window(svc, message, claimed, agent, now)):
            return
    else:
        if not message.bypass_window and not _in_window(svc, message, expected, agent, now):
            return
        claimed = _claim(svc, message, expected, agent, now)
        if claimed is None:
            return
    _place(svc, message, agent, claimed)


def _claim(
    svc: Services, message: DialMessage, expected: dict[str, Any], agent: dict[str, Any], now: Any
) -> dict[str, Any] | None:
    lease_until = clock.iso(now + timedelta(seconds=svc.settings.call_report_timeout_seconds))
    try:
        return svc.executions.move(
            expected,
            "initiated",
            {"claimed_at": clock.iso(now), "provider": agent["provider"], "from_number": message.from_number},
            batch_must_run=True,
            batch_live_cap=message.batch_cap or NO_BATCH_CAP,
            extra=svc.leases.take_elements(
                agent_key(message.tenant_id, message.agent_id),
                message.execution_id,
                message.batch_id,
                int(agent.get("max_concurrent_calls") or 1),
                lease_until,
            ),
        )
    except StaleTransition:
        # Already claimed (a redelivery), canceled, or never created (a retry that lost its race).
        if svc.providers[agent["provider"]].idempotent(agent):
            return _claimed_never_placed(svc, message)
        return None
    except NoFreeSlot:
        _wait_for_slot(svc, message)
    except BatchNotRunning:
        _not_running(svc, message, expected)
    return None


def _claimed_never_placed(svc: Services, message: DialMessage) -> dict[str, Any] | None:
    """A redelivered message whose claim stands but whose call was never recorded as placed: the dialer
    died in between. With an idempotent provider, placing it again makes no second call."""
    execution = svc.executions.find(message.execution_id)
    if (
        execution is None
        or execution["status"] != "initiated"
        or execution.get("provider_call_id")
        or execution.get("place_token")  # a placement retry owns it
    ):
        return None
    count("ClaimsResumed")
    return execution


def _still_to_place(svc: Services, message: DialMessage) -> dict[str, Any] | None:
    """A claimed call coming back to be placed: only if nothing placed, finished or stopped it meanwhile."""
    if not message.place_token or not svc.executions.take_place_token(message.execution_id, message.place_token):
        return None  # a duplicate delivery, or placed, finished or swept meanwhile
    execution = svc.executions.find(message.execution_id)
    if execution is None or execution["status"] != "initiated" or execution.get("provider_call_id"):
        return None
    batch = svc.batches.find(message.batch_id)
    if batch is not None and batch["status"] == BatchStatus.PAUSED:
        _again(svc, message, PAUSED_RECHECK_SECONDS)
        return None
    if batch is None or batch["status"] != BatchStatus.RUNNING:
        _unplaced(svc, execution, "canceled", "the batch was stopped before this call was placed")
        return None
    return execution


def _place(svc: Services, message: DialMessage, agent: dict[str, Any], claimed: dict[str, Any]) -> None:
    """Place the claimed call, paced to the account's calls per second; a failure is mapped, never raised."""
    if not _paced(svc, message, agent):
        return
    request = CallRequest(
        execution_id=message.execution_id,
        batch_id=message.batch_id,
        tenant_id=message.tenant_id,
        agent_id=message.agent_id,
        to_number=message.to,
        from_number=message.from_number,
        welcome_message=fill(agent.get("welcome_message") or "", message.variables),
        prompt=fill(agent.get("prompt") or "", message.variables),
        variables=message.variables,
        attempt=message.attempt,
        callback_url=svc.settings.callback_url(agent["provider"], message.execution_id),
    )
    started = time.perf_counter()
    try:
        call_id = svc.providers[agent["provider"]].place_call(request, agent)
    except ProviderError as exc:
        _placement_failed(svc, message, agent, claimed, exc)
        return
    except MissingSecret as exc:
        _unplaced(svc, claimed, "error", f"provider credentials missing: {exc}")
        return
    count("DialLatency", (time.perf_counter() - started) * 1000, MetricUnit.Milliseconds)
    count("CallsPlaced")
    svc.executions.set_fields(message.execution_id, {"provider_call_id": call_id, "placed_at": clock.now_iso()})
    logger.info("call placed", extra={"to": message.to, "attempt": message.attempt})


def pace_key(agent: dict[str, Any]) -> str:
    """Calls-per-second limits belong to the provider account: agents sharing credentials share the pace."""
    credentials = (agent.get("provider_config") or {}).get("credentials") or agent["provider"]
    return f"{agent['tenant_id']}#pace#{agent['provider']}#{credentials}"


def _paced(svc: Services, message: DialMessage, agent: dict[str, Any]) -> bool:
    cps = agent.get("calls_per_second") or DEFAULT_CALLS_PER_SECOND.get(agent["provider"])
    if not cps:
        return True
    now_ms = int(clock.now().timestamp() * 1000)
    max_wait = int(svc.settings.pacing_max_sleep_seconds * 1000)
    wait = svc.pacer.reserve(pace_key(agent), max(1, round(1000 / float(cps))), now_ms, max_wait)
    if wait >= 0:
        if wait:
            time.sleep(wait / 1000)  # pacing within a second: cheaper than a queue round trip
        return True
    count("CallsPaced")
    _again(svc, message, math.ceil(-wait / 1000))
    return False


def _placement_failed(
    svc: Services, message: DialMessage, agent: dict[str, Any], claimed: dict[str, Any], exc: ProviderError
) -> None:
    """4xx: the call failed. 5xx/timeouts: again with backoff, then error. Rate limits: slow down, never fail."""
    logger.warning("placing the call failed", extra={"kind": exc.kind.value, "reason": exc.message})
    count(f"ProviderFailure_{exc.kind.value}")
    if exc.kind == Failure.REJECTED:
        _unplaced(svc, claimed, "failed", exc.message)
    elif exc.kind == Failure.RATE_LIMITED:
        if message.throttled + 1 >= MAX_RATE_LIMITED:
            _unplaced(svc, claimed, "error", f"{exc.message} (rate limited {MAX_RATE_LIMITED} times)")
            return
        delay = exc.retry_after or RATE_LIMIT_PAUSE_SECONDS
        svc.pacer.hold_until(pace_key(agent), int((clock.now().timestamp() + delay) * 1000))
        _again(svc, message, math.ceil(delay), throttled=message.throttled + 1)
    else:
        tries = message.place_tries + 1
        if tries >= svc.settings.provider_max_attempts:
            _unplaced(svc, claimed, "error", f"{exc.message} (after {tries} attempts)")
            return
        _again(svc, message, min(MAX_BACKOFF_SECONDS, 2**tries), place_tries=tries)


def _again(svc: Services, message: DialMessage, delay: int, **update: Any) -> None:
    """Back to the queue, still claimed (its slot held), with a fresh token only one delivery can take.

    Touching the execution also keeps the sweeper from declaring the claim lost meanwhile.
    """
    token = uuid.uuid4().hex
    fields = {"updated_at": clock.now_iso(), "place_token": token}
    if not svc.executions.set_fields(message.execution_id, fields, only_if_status=["initiated"]):
        return  # finished meanwhile (stopped, swept)
    svc.queues.send(DIAL_QUEUE, message.again(expect_status="initiated", place_token=token, **update), min(delay, 900))


def _in_window(svc: Services, message: DialMessage, expected: dict[str, Any], agent: dict[str, Any], now: Any) -> bool:
    """Inside the recipient's calling hours; otherwise reschedule to the next open slot."""
    window = CallingWindow.from_agent(agent)
    zones = _zones(message.to, agent.get("timezone"))
    if is_open(window, zones, now):
        return True
    when = next_open(window, zones, now)
    if when is None:
        _unplaced(svc, expected, "error", "no time is inside the calling hours in every time zone of this number")
        return False
    if expected["status"] != "rescheduled":
        try:
            svc.executions.move(expected, "rescheduled", {"scheduled_at": clock.iso(when)})
        except StaleTransition:
            return False
        if expected["status"] == "initiated":  # the window closed while its placement was retried: free the slot
            svc.leases.release(agent_key(message.tenant_id, message.agent_id), message.execution_id, message.batch_id)
        _announce_waiting(svc, message.batch_id)
    else:
        svc.executions.set_fields(message.execution_id, {"scheduled_at": clock.iso(when)})
    _later(svc, message.again(expect_status="rescheduled", place_token=None), when)
    return False


def _announce_waiting(svc: Services, batch_id: str) -> None:
    """`waiting_for_scheduled_calls`: every contact left to call waits for its calling hours."""
    batch = svc.batches.find(batch_id)
    if batch is None or batch.get("next_pos", 0) < batch["valid_contacts"]:
        return  # contacts not yet dispatched may still be callable now
    counts = batch.get("execution_status") or {}
    if counts.get("rescheduled", 0) and not any(counts.get(s, 0) for s in ("queued", *LIVE)):
        emit_batch_event(svc, batch, "waiting_for_scheduled_calls")


def _later(svc: Services, message: DialMessage, when: Any) -> None:
    svc.scheduler.send_at(DIAL_QUEUE, message.again(not_before=clock.iso(when)), when, f"dial-{message.execution_id}")


def _wait_for_slot(svc: Services, message: DialMessage) -> None:
    # Hand the message back with a delay; the original is acknowledged only after this send succeeds.
    count("CallsWaitingForSlot")  # the operator's sign that an agent's or batch's live-call cap binds
    svc.queues.send(
        DIAL_QUEUE,
        message.again(waits=message.waits + 1),
        slot_wait_seconds(message.waits),
    )


def _not_running(svc: Services, message: DialMessage, expected: dict[str, Any]) -> None:
    batch = svc.batches.find(message.batch_id)
    if batch is not None and not batch.get("deleted_at"):
        if batch["status"] == BatchStatus.RUNNING:  # running, so its own live-call cap was the limit
            _wait_for_slot(svc, message)
            return
        if batch["status"] == BatchStatus.PAUSED:
            svc.queues.send(DIAL_QUEUE, message.again(), PAUSED_RECHECK_SECONDS)
            return
    _unplaced(svc, expected, "canceled", "the batch was stopped before this call was placed")


def _unplaced(svc: Services, expected: dict[str, Any], status: str, reason: str) -> None:
    try:
        finish_call(svc, expected, status, {"error_message": reason})
    except StaleTransition:
        return
