"""One short seeded campaign under seeded faults, then the invariants (issue 18's simulation test).

Each seed starts from an empty stack, at a fixed instant on a clock that moves only when the pump moves it,
with ids drawn from the seed (tests/support/world.py): so a seed replays exactly, alone or in a run
(`make chaos FIRST=<seed> SEEDS=1`). The seed picks the scenario (agents, providers, calling hours, caps,
batch sizes, retries, Scheduler starts, pause/resume/stop and when) and, separately, the faults.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chalice.test import Client

from chalicelib import clock
from chalicelib.domain.batch_status import TERMINAL
from chalicelib.resources import QUEUES, queue_name
from chalicelib.services.admin import seed_demo
from chalicelib.services.container import Dependencies
from chalicelib.services.webhooks import current_secret
from local.faults import FaultConfig, FaultInjector
from tests.support.api import post_csv
from tests.support.batches import patch_agent
from tests.support.invariants import DialLedger, check_campaign
from tests.support.providers import post_callback
from tests.support.pump import SWEEP_EVERY_SECONDS, Pump
from tests.support.voice_agent import VoiceAgent
from tests.support.webhooks import STALL, Received, Receiver, Reply
from tests.support.world import cheap_requests, empty_stack, queue_counts, seeded_ids

RATE = 0.03  # faults per opportunity (AWS call, provider request, delivery, schedule firing)
SETTLE_SECONDS = 3700  # past every timeout (call report 3600 s, claim 300 s), so nothing may stay in flight
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a Monday; 08:00 in the contacts' zone (+1 202: New York)
TENANT = "tenant-a"


@dataclass
class SeedResult:
    seed: int
    violations: list[str]
    injected: Counter[str] = field(default_factory=Counter)
    trail: list[str] = field(default_factory=list)
    state: str = ""  # a digest of the final stores: the same seed must end in the same state

    @property
    def faults(self) -> list[str]:
        return [line.split(" ", 3)[-1] for line in self.trail]  # "point=... kind=..." of each, in order


@dataclass
class World:
    """What every seed runs against: the pump (one moto backend, emptied per seed), the API, a webhook
    receiver and an HTTP voice agent; one fault injector reseeded per seed (its hooks stay on the clients)."""

    pump: Pump
    client: Client
    receiver: Receiver | None = None
    voice_agent: VoiceAgent | None = None
    injector: FaultInjector = field(default_factory=lambda: FaultInjector(FaultConfig(seed=0, rate=RATE)))


def replay_command(seed: int) -> str:
    return f"make chaos FIRST={seed} SEEDS=1"


def _contacts(first: int, n: int) -> bytes:
    rows = "".join(f"+1202555{first + i:04d},Name{i},plan{i % 3}\n" for i in range(n))
    return ("contact_number,customer_name,plan\n" + rows).encode()


def _upload(
    client: Client, tenant: tuple[str, str], rng: random.Random, first: int, hooks_url: str | None
) -> tuple[str, dict[str, str]]:
    key, agent_id = tenant
    fields: dict[str, str | list[str]] = {"agent_id": agent_id}
    if hooks_url:
        fields.update(webhook_url=f"{hooks_url}/calls", status_webhook=f"{hooks_url}/status")
    if rng.random() < 0.4:
        fields["retry_config"] = json.dumps(
            {"enabled": True, "max_retries": rng.randint(1, 2), "retry_intervals_minutes": [1]}
        )
    if rng.random() < 0.3:
        fields["max_concurrent_calls"] = str(rng.randint(1, 2))
    size = rng.choice([1, 1, 2, 2, 3, 5])  # mostly small, now and then a batch wider than every cap
    response = post_csv(client, key, fields, _contacts(first, size))
    assert response.status_code == 201, response.body
    return json.loads(response.body)["batch_id"], {"Authorization": f"Bearer {key}"}


def _ended(deps: Dependencies, batch_ids: list[str]) -> bool:
    return all((b := deps.batches.find(i)) is not None and b.status in TERMINAL for i in batch_ids)


def _receiver_faults(receiver: Receiver, rng: random.Random) -> None:
    """Receivers that fail (5xx, retried; 429 with no wait), stall past the sender's timeout (the event
    arrived, so the retry makes it arrive twice), the first attempt more often."""

    def script(request: Received) -> Reply:
        roll = rng.random()
        if roll < 0.01:  # costs the sender's timeout in real time
            return Reply(STALL)
        if roll < (0.3 if request.nth == 1 else 0.1):
            return Reply(rng.choice([500, 503, 429]))
        return Reply(200)

    receiver.script = script


def _agents(world: World, rng: random.Random) -> list[tuple[str, str]]:
    """1-2 agents of one tenant, each with its own cap; some on the HTTP voice agent (with or without an
    idempotency key), some held to calling hours that open minutes after the campaign starts."""
    client, agents = world.client, []
    for _ in range(rng.randint(1, 2)):
        tenant = seed_demo(TENANT, world.pump.deps)
        fields: dict[str, object] = {"max_concurrent_calls": rng.randint(1, 3)}
        if world.voice_agent is not None and rng.random() < 0.35:
            config = {"endpoint": world.voice_agent.url, "idempotent": rng.random() < 0.5}
            fields.update(provider="http", provider_config=config)
        if rng.random() < 0.2:  # 9-21 on the contacts' clock: opens at 13:00 UTC
            fields.update(call_start_hour=9, call_end_hour=21)
        patch_agent(client, tenant, **fields)
        agents.append(tenant)
    return agents


class Reports:
    """The HTTP voice agent's status webhooks, sent by the harness (never from a thread, so order is fixed):
    each call it accepted is reported ended, now and then twice (two genuine reports) or never (the sweeper
    then ends it)."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world, self.rng, self.done = world, rng, 0

    def send(self) -> None:
        agent = self.world.voice_agent
        if agent is None:
            return
        for reference, call_id in agent.placed[self.done :]:
            self.done += 1
            roll = self.rng.random()
            for _ in range(0 if roll < 0.1 else 2 if roll < 0.2 else 1):
                payload = {"status": "completed", "call_id": call_id, "metadata": {"execution_id": reference}}
                headers, body = VoiceAgent.signed({**payload, "conversation_duration": 30})
                post_callback(self.world.client, "http", reference, headers, body)


def _state(deps: Dependencies, batch_ids: list[str]) -> str:
    """A digest of what the campaign left: each batch's status and counters, each execution's outcome."""
    rows: list[object] = []
    for batch_id in batch_ids:
        batch = deps.batches.find(batch_id)
        rows.append([batch_id, batch and batch.status, batch and sorted((batch.execution_status or {}).items())])
        for e in sorted(deps.executions.iter_batch(batch_id), key=lambda e: e.execution_id):
            rows.append([e.execution_id, e.contact_index, e.attempt, e.status, e.claimed_at, e.ended_at])
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()[:16]


def run_seed(world: World, seed: int) -> SeedResult:
    """A campaign of 1-2 batches on 1-2 agents under faults from `seed`, from an empty stack; its violations."""
    pump, client, receiver, deps = world.pump, world.client, world.receiver, world.pump.deps
    empty_stack(deps.settings)
    rng = random.Random(seed)
    pump.restart(START + timedelta(minutes=rng.randint(20, 55)))  # calling hours open 5-40 minutes on
    injector = world.injector
    injector.reseed(FaultConfig(seed=seed, rate=RATE))
    base = dict(deps.providers)
    ledgers = {name: DialLedger(base[name]) for name in ("simulator", "http")}
    deps.providers.update(ledgers)
    ids: list[str] = []
    with seeded_ids(seed), cheap_requests():
        try:
            agents = _agents(world, rng)
            hooks = receiver is not None and rng.random() < 0.5
            if receiver is not None:
                receiver.reset()
                receiver.secrets = [str(current_secret(deps, TENANT).webhook_secret)]
                _receiver_faults(receiver, random.Random(seed * 7919))
            if world.voice_agent is not None:
                world.voice_agent.placed.clear()
            reports = Reports(world, random.Random(seed * 104729))
            batches = [
                _upload(client, rng.choice(agents), rng, 100 + 10 * i, receiver.url if receiver and hooks else None)
                for i in range(rng.choice([1, 1, 2]))
            ]
            ids = [b for b, _ in batches]
            pump.install_faults(injector)
            _start(client, rng, batches)
            _operator(pump, client, rng, batches, reports.send)
            pump.run(until=_also(reports.send, lambda: _ended(deps, ids)), advance_seconds=60, max_steps=20_000)
            target = pump.advanced_seconds + SETTLE_SECONDS
            pump.run(until=_also(reports.send, lambda: pump.advanced_seconds >= target), advance_seconds=600)
            _recover(pump, injector, reports.send)
            pump.faults = None
            dials = sum((ledger.dials for ledger in ledgers.values()), Counter[str]())
            violations = check_campaign(deps, ids, dials, received=receiver.received if receiver else None)
        except AssertionError as error:
            violations = [f"campaign did not end: {error}; {_where(deps, ids)}"]
        finally:
            pump.faults = None
            deps.providers.clear()
            deps.providers.update(base)
    return SeedResult(seed, violations, Counter(injector.injected), list(injector.trail), _state(deps, ids))


def _recover(pump: Pump, injector: FaultInjector, between: Callable[[], None]) -> None:
    """The faults end (as an outage does); then the sweeper's next pass, and what it sent, must leave nothing open.
    Under faults the last sweep past a timeout may crash (it runs again a minute later, as on AWS), and the 600 s
    steps above leave room for one sweep past a call's report timeout: seed 162's crashed, two silent calls stayed
    open. What one fault-free pass does not end is stuck for good: that is what the invariants flag."""
    injector.quiet()
    pump.advance(SWEEP_EVERY_SECONDS)
    pump.sweep_if_due()
    drain(pump, between)  # what the sweep sent


def drain(pump: Pump, between: Callable[[], None] = lambda: None) -> None:
    """Run until no message is left in any queue, moving the clock past each one's due time.

    What the last sweep sent is handled under faults too: a crashed handler's message comes back only after
    its queue's visibility timeout (720 s for webhooks), a failed webhook attempt is retried seconds later.
    Draining without moving the clock left those in flight and reported them as stuck (seed 190).
    """
    pump.run(until=_also(between, lambda: not in_flight(pump.deps)), advance_seconds=60)


def in_flight(deps: Dependencies) -> int:
    """Messages in the work queues, visible, in flight or delayed (DLQs excluded: the invariants check those)."""
    counts = (queue_counts(deps.settings, queue_name(deps.settings, queue)) for queue in QUEUES)
    return sum(sum(found) for found in counts if found is not None)


def _where(deps: Dependencies, batch_ids: list[str]) -> str:
    """Where a campaign that did not end stands: each batch's status, its executions' statuses."""
    parts = []
    for batch_id in batch_ids:
        batch = deps.batches.find(batch_id)
        statuses = Counter(str(e.status) for e in deps.executions.iter_batch(batch_id) if not e.superseded_by)
        parts.append(f"{batch_id}: {batch and batch.status} {dict(statuses)}")
    return "; ".join(parts)


def _also(side: Callable[[], None], condition: Callable[[], bool]) -> Callable[[], bool]:
    def check() -> bool:
        side()
        return condition()

    return check


def _start(client: Client, rng: random.Random, batches: list[tuple[str, dict[str, str]]]) -> None:
    for batch_id, auth in batches:
        if rng.random() < 0.25:  # a Scheduler start (which may fire late or twice), two minutes ahead
            when = clock.iso(clock.now() + timedelta(minutes=2))
            response = client.http.post(
                f"/batches/{batch_id}/schedule",
                body=json.dumps({"scheduled_at": when}),
                headers={**auth, "Content-Type": "application/json"},
            )
        else:
            response = client.http.post(f"/batches/{batch_id}/run", headers=auth)
        assert response.status_code == 200, response.body


def _operator(
    pump: Pump,
    client: Client,
    rng: random.Random,
    batches: list[tuple[str, dict[str, str]]],
    between: Callable[[], None],
) -> None:
    """Some progress, then now and then an operator pauses (and later resumes) or stops a batch mid-run."""
    for _ in range(rng.randint(0, 8)):
        pump.step(rng.choice(["dispatcher", "dialer", "provider_events"]))
        between()
    action = rng.choice(["none", "none", "pause", "stop"])
    batch_id, auth = rng.choice(batches)
    if action == "pause" and client.http.post(f"/batches/{batch_id}/pause", headers=auth).status_code == 200:
        for _ in range(rng.randint(0, 4)):
            pump.step(rng.choice(["dispatcher", "dialer", "provider_events"]))
            between()
        pump.advance(rng.randint(0, 120))
        client.http.post(f"/batches/{batch_id}/resume", headers=auth)
    elif action == "stop":
        client.http.post(f"/batches/{batch_id}/stop", headers=auth)
