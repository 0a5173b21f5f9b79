"""The provider request of a claimed call: paced to the account's calls per second, its failure mapped.

A rejection fails the call; a 5xx or a timeout tries again with backoff, then ends it in `error`;
a rate limit slows the account down and never fails the call (up to MAX_RATE_LIMITED times).
A request the provider may have acted on (sent, then no answer) is placed again only where the provider
dedupes; otherwise the claim stands and the provider's report (or, failing that, the sweeper) ends it.
"""

from __future__ import annotations

import math
import time

from aws_lambda_powertools.metrics import MetricUnit

from .. import clock
from ..adapters.secrets import MissingSecret
from ..domain import timeline
from ..domain.messages import DialMessage
from ..domain.records import Agent, Execution
from ..domain.templates import fill
from ..domain.timeline import Entry
from ..observability import count, logger
from ..providers.base import CallRequest, Failure, ProviderError
from .container import Dependencies
from .dial_waits import again, unplaced

DEFAULT_CALLS_PER_SECOND = {"twilio": 1.0}  # a Twilio account's default; set the agent's calls_per_second
MAX_RATE_LIMITED = 20
RATE_LIMIT_PAUSE_SECONDS = 5.0  # when a rate-limit answer has no Retry-After
MAX_BACKOFF_SECONDS = 60
MAYBE_PLACED = "the call may have been placed, so it is not placed again; waiting for the provider's report"


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
