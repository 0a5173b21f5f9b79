"""The service's promises, checked over a finished campaign (issue 18): run after the pump has drained.

`check_campaign` reads what the stores, the queues and the provider's own ledger say, and returns every
broken promise as a sentence (an empty list: all held). It reads the stores directly, never through the
code under test's counters alone, so a counter that drifted from its executions is caught.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib import aws
from chalicelib.domain.call_status import is_final
from chalicelib.domain.records import Agent, Execution
from chalicelib.domain.webhooks import message_id
from chalicelib.providers.base import CallRequest
from chalicelib.resources import QUEUES, WEBHOOK_DELIVERIES, WEBHOOK_QUEUE, dlq_name, queue_name, table_name
from chalicelib.services.container import Dependencies
from chalicelib.store.dynamo import query_all, values
from chalicelib.store.webhook_deliveries import DEAD, STATE_PREFIX
from tests.support.webhooks import Received
from tests.support.world import queue_counts


class DialLedger:
    """Wraps a provider and counts what reached it: placements per execution (one execution is one attempt)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dials: Counter[str] = Counter()
        self._lock = threading.Lock()

    def idempotent(self, agent: Agent) -> bool:
        return bool(self.inner.idempotent(agent))

    def place_call(self, request: CallRequest, agent: Agent) -> str:
        with self._lock:  # counted once asked (it may fail after dialling); an idempotent provider dials once
            if not (self.inner.idempotent(agent) and self.dials[request.execution_id]):
                self.dials[request.execution_id] += 1
        return str(self.inner.place_call(request, agent))

    def __getattr__(self, name: str) -> Any:  # anything else the service asks of the provider
        return getattr(self.inner, name)


@dataclass
class Limits:
    """The live-call caps a campaign ran under: per agent (tenant#agent) and per batch."""

    agent: dict[str, int] = field(default_factory=dict)
    batch: dict[str, int] = field(default_factory=dict)


def limits_of(deps: Dependencies, batch_ids: Iterable[str]) -> Limits:
    """The caps as stored: each batch's own, and its agent's (1 when unset, as the dialer reads it)."""
    limits = Limits()
    for batch_id in batch_ids:
        batch = deps.batches.find(batch_id)
        if batch is None:
            continue
        if batch.max_concurrent_calls:
            limits.batch[batch_id] = batch.max_concurrent_calls
        agent = deps.agents.find_by_id(batch.agent_id)
        if agent is not None:
            limits.agent[f"{batch.tenant_id}#{batch.agent_id}"] = int(agent.max_concurrent_calls or 1)
    return limits


def _max_overlap(intervals: Iterable[tuple[str, str]]) -> int:
    """Most intervals open at one instant; half-open [start, end), so an end and a start at once don't overlap."""
    points = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals], key=lambda p: p)
    live = peak = 0
    for _, delta in points:  # at equal times -1 sorts before +1
        live += delta
        peak = max(peak, live)
    return peak


def _queue_depths(deps: Dependencies) -> dict[str, int]:
    """Visible and in-flight messages of each queue and DLQ, read in moto's backend (no AWS call a check)."""
    depths: dict[str, int] = {}
    for queue in QUEUES:
        for name in (queue_name(deps.settings, queue), dlq_name(deps.settings, queue)):
            counts = queue_counts(deps.settings, name)
            if counts is not None:
                depths[name] = counts[0] + counts[1]
    return depths


def check_batch(deps: Dependencies, batch_id: str, dials: Counter[str] | None) -> list[str]:
    """Accounting for one batch: every valid contact once, counters equal executions, no double dial."""
    problems: list[str] = []
    batch = deps.batches.find(batch_id)
    if batch is None:
        return [f"{batch_id}: batch missing"]
    executions: list[Execution] = list(deps.executions.iter_batch(batch_id))
    current = [e for e in executions if not e.superseded_by]
    by_contact = Counter(e.contact_index for e in current)
    twice = sorted(i for i, n in by_contact.items() if n > 1)
    if twice:
        problems.append(f"{batch_id}: contacts with more than one current attempt: {twice[:10]}")
    if len(by_contact) != batch.valid_contacts:
        problems.append(f"{batch_id}: {len(by_contact)} contacts have executions, {batch.valid_contacts} valid")
    not_final = [e.execution_id for e in current if not is_final(str(e.status))]
    if not_final:
        problems.append(f"{batch_id}: executions not final after every timeout: {not_final[:5]}")
    stale = [e.execution_id for e in executions if e.superseded_by and not is_final(str(e.status))]
    if stale:
        problems.append(f"{batch_id}: superseded attempts not final: {stale[:5]}")
    said = {status: n for status, n in (batch.execution_status or {}).items() if n}
    counted = dict(Counter(str(e.status) for e in current))  # each contact by its last attempt
    if said != counted:
        problems.append(f"{batch_id}: counters {said} but executions say {counted}")
    if batch.live:
        problems.append(f"{batch_id}: {batch.live} live calls counted after the end")
    if dials is not None:
        problems += _check_dials(batch_id, executions, dials)
    return problems


def _check_dials(batch_id: str, executions: list[Execution], dials: Counter[str]) -> list[str]:
    """Counted at the provider: no attempt dialled twice, and no call id the provider never gave."""
    problems: list[str] = []
    mine = {e.execution_id for e in executions}
    doubled = {k: n for k, n in dials.items() if k in mine and n > 1}
    if doubled:
        problems.append(f"{batch_id}: dialled more than once for one attempt: {doubled}")
    placed = {e.execution_id for e in executions if e.provider_call_id}
    unseen = placed - set(dials)
    if unseen:
        problems.append(f"{batch_id}: provider call ids with no dial at the provider: {sorted(unseen)[:5]}")
    return problems


def _end(execution: Execution) -> str:
    """When its slot was freed: its end, or for one ended without a call (failed or canceled before the provider
    took it: no `ended_at`) its last change."""
    if execution.ended_at:
        return execution.ended_at
    if is_final(str(execution.status)):
        return execution.updated_at
    return f"never ended ({execution.status}, {execution.execution_id})"


def check_live_limits(deps: Dependencies, batch_ids: Iterable[str], limits: Limits) -> list[str]:
    """Live calls (claim to end) never above a batch's or an agent's cap at any instant."""
    problems: list[str] = []
    per_agent: dict[str, list[tuple[str, str]]] = {}
    for batch_id in batch_ids:
        claimed = [e for e in deps.executions.iter_batch(batch_id) if e.claimed_at]  # each took a slot
        intervals = [(str(e.claimed_at), _end(e)) for e in claimed]
        batch = deps.batches.find(batch_id)
        if batch is None:
            continue
        per_agent.setdefault(f"{batch.tenant_id}#{batch.agent_id}", []).extend(intervals)
        cap = limits.batch.get(batch_id)
        if cap is not None and (peak := _max_overlap(intervals)) > cap:
            calls = sorted((e.claimed_at, e.ended_at, str(e.status), e.error_message) for e in claimed)
            problems.append(f"{batch_id}: {peak} live calls at once, batch cap {cap}: {calls}")
    for key, intervals in per_agent.items():
        cap = limits.agent.get(key)
        if cap is not None and (peak := _max_overlap(intervals)) > cap:
            problems.append(f"agent {key}: {peak} live calls at once, cap {cap}: {sorted(intervals)}")
    return problems


def dead_webhooks(deps: Dependencies) -> dict[str, dict[str, Any]]:
    """The webhook DLQ's parked events by event id (read with a visibility timeout, so each is seen once)."""
    url = aws.sqs().get_queue_url(QueueName=dlq_name(deps.settings, WEBHOOK_QUEUE))["QueueUrl"]
    parked: dict[str, dict[str, Any]] = {}
    while (
        messages := aws.sqs()
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)
        .get("Messages", [])
    ):
        for message in messages:
            body = json.loads(message["Body"])
            parked[body["event_id"]] = body
    return parked


def check_webhooks(
    deps: Dependencies, batch_id: str, received: Iterable[Received], dead: dict[str, dict[str, Any]]
) -> list[str]:
    """Every webhook event of the batch delivered at least once with a valid signature, or parked in the
    webhook DLQ with its reason (the last status code or error)."""
    states = query_all(
        TableName=table_name(deps.settings, WEBHOOK_DELIVERIES),
        KeyConditionExpression="batch_id = :b AND begins_with(delivery_key, :p)",
        ExpressionAttributeValues=values(b=batch_id, p=STATE_PREFIX),
    )
    verified = {r.webhook_id for r in received if r.verified_by}
    problems: list[str] = []
    for state in states:
        event_id = str(state["delivery_key"]).removeprefix(STATE_PREFIX)
        if state.get("state") in ("delivered", "failed", "disabled"):  # the receiver answered (2xx, 4xx, 410)
            if message_id(event_id) not in verified:
                problems.append(
                    f"{batch_id}: webhook {event_id} {state['state']}, but no receipt with a valid signature"
                )
        elif state.get("state") == DEAD:
            parked = dead.get(event_id)
            if parked is None or not (parked.get("last_status_code") or parked.get("last_error")):
                problems.append(f"{batch_id}: webhook {event_id} dead, but not in the DLQ with its reason")
        else:
            problems.append(f"{batch_id}: webhook {event_id} left {state.get('state')}")
    return problems


def check_quiet(deps: Dependencies) -> list[str]:
    """Nothing in flight: every queue and DLQ empty (dead webhooks, parked on purpose, are checked per event),
    no lease held."""
    parked_on_purpose = dlq_name(deps.settings, WEBHOOK_QUEUE)
    depths = _queue_depths(deps)
    problems = [f"queue {name}: {n} messages left" for name, n in depths.items() if n and name != parked_on_purpose]
    held = deps.leases.count_live()
    if held:
        problems.append(f"{held} leases still held")
    return problems


def check_campaign(
    deps: Dependencies,
    batch_ids: Iterable[str],
    dials: Counter[str] | None = None,
    limits: Limits | None = None,
    received: list[Received] | None = None,
) -> list[str]:
    """Every invariant over the given batches; call once the pump has drained and the clock passed every timeout.

    `dials`: placements per execution id as the provider counted them (DialLedger.dials); `received`: what the
    webhook receiver got (the webhook invariant is checked when given)."""
    ids = list(batch_ids)
    problems = [p for batch_id in ids for p in check_batch(deps, batch_id, dials)]
    problems += check_live_limits(deps, ids, limits or limits_of(deps, ids))
    if received is not None:
        dead = dead_webhooks(deps)
        problems += [p for batch_id in ids for p in check_webhooks(deps, batch_id, received, dead)]
    problems += check_quiet(deps)
    return problems
