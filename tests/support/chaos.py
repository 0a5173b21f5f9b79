"""One short seeded campaign under seeded faults, then the invariants (issue 18's simulation test).

The seed picks the scenario (batch sizes, caps, retries, pause/resume/stop mid-run, when) and, separately,
the faults, so a failing seed replays: `make chaos FIRST=<first> SEEDS=<n>` (see `replay_command`).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from chalice.test import Client

from chalicelib import aws, clock
from chalicelib.domain.batch_status import TERMINAL
from chalicelib.resources import QUEUES, dlq_name, queue_name
from chalicelib.services import dialing
from chalicelib.services.container import Dependencies
from local.faults import FaultConfig, FaultInjector
from tests.support.api import post_csv
from tests.support.batches import patch_agent
from tests.support.invariants import DialLedger, check_campaign
from tests.support.pump import Pump
from tests.support.webhooks import Received, Receiver, Reply

RATE = 0.03  # faults per opportunity (AWS call, provider request, delivery, schedule firing)
SETTLE_SECONDS = 3700  # past every timeout (call report 3600 s, claim 300 s), so nothing may stay in flight


@dataclass
class SeedResult:
    seed: int
    violations: list[str]
    injected: Counter[str] = field(default_factory=Counter)
    trail: list[str] = field(default_factory=list)


def replay_command(seed: int, first: int) -> str:
    """The run as it was (seeds share one stack and clock, so earlier seeds shape later ones), and the seed alone."""
    return f"make chaos FIRST={first} SEEDS={seed - first + 1}   (alone: make chaos FIRST={seed} SEEDS=1)"


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
    response = post_csv(client, key, fields, _contacts(first, rng.randint(1, 4)))
    assert response.status_code == 201, response.body
    return json.loads(response.body)["batch_id"], {"Authorization": f"Bearer {key}"}


def _ended(deps: Dependencies, batch_ids: list[str]) -> bool:
    return all((b := deps.batches.find(i)) is not None and b.status in TERMINAL for i in batch_ids)


def _purge(deps: Dependencies) -> None:
    """After a failed seed, empty the queues so the next seed starts clean."""
    for queue in QUEUES:
        for name in (queue_name(deps.settings, queue), dlq_name(deps.settings, queue)):
            aws.sqs().purge_queue(QueueUrl=aws.sqs().get_queue_url(QueueName=name)["QueueUrl"])


def _receiver_faults(receiver: Receiver, rng: random.Random) -> None:
    """Receivers that fail now and then (5xx, retried; 429 with no wait), the first attempt more often."""

    def script(request: Received) -> Reply:
        if rng.random() < (0.3 if request.nth == 1 else 0.1):
            return Reply(rng.choice([500, 503, 429]))
        return Reply(200)

    receiver.script = script


def run_seed(
    pump: Pump, client: Client, tenant: tuple[str, str], seed: int, receiver: Receiver | None = None
) -> SeedResult:
    """A campaign of 1-2 batches on one agent (sharing its cap) under faults from `seed`; its violations.

    One pump (and its moved clock) serves every seed, so time only goes forward across seeds."""
    deps = pump.deps
    rng = random.Random(seed)
    injector = FaultInjector(FaultConfig(seed=seed, rate=RATE))
    base = dict(deps.providers)
    ledger = DialLedger(base["simulator"])
    deps.providers["simulator"] = ledger
    try:
        patch_agent(client, tenant, max_concurrent_calls=rng.randint(1, 3))
        # A warm dialer keeps an agent for AGENT_CACHE_SECONDS of real time (not the moved clock): start each
        # seed as a cold one, so the cap just set is the cap the claims use.
        dialing._agents.clear()
        hooks = receiver is not None and rng.random() < 0.5
        if receiver is not None:
            _receiver_faults(receiver, random.Random(seed * 7919))
        batches = [
            _upload(client, tenant, rng, 100 + 10 * i, receiver.url if receiver and hooks else None)
            for i in range(rng.randint(1, 2))
        ]
        pump.install_faults(injector)
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
        for _ in range(rng.randint(0, 8)):  # some progress before an operator steps in
            pump.step(rng.choice(["dispatcher", "dialer", "provider_events"]))
        action = rng.choice(["none", "none", "pause", "stop"])
        batch_id, auth = rng.choice(batches)
        if action == "pause" and client.http.post(f"/batches/{batch_id}/pause", headers=auth).status_code == 200:
            for _ in range(rng.randint(0, 4)):
                pump.step(rng.choice(["dispatcher", "dialer", "provider_events"]))
            pump.advance(rng.randint(0, 120))
            client.http.post(f"/batches/{batch_id}/resume", headers=auth)
        elif action == "stop":
            client.http.post(f"/batches/{batch_id}/stop", headers=auth)
        ids = [b for b, _ in batches]
        pump.run(until=lambda: _ended(deps, ids), advance_seconds=30, max_steps=20_000)
        target = pump.advanced_seconds + SETTLE_SECONDS
        pump.run(until=lambda: pump.advanced_seconds >= target, advance_seconds=600)
        pump.run()  # drain what the last sweep sent
        injector.uninstall()
        violations = check_campaign(deps, ids, ledger.dials, received=receiver.received if receiver else None)
    except AssertionError as error:
        violations = [f"campaign did not end: {error}"]
    finally:
        injector.uninstall()
        pump.faults = None
        deps.providers.clear()
        deps.providers.update(base)
    if violations:
        _purge(deps)
    return SeedResult(seed, violations, injector.injected, injector.trail)
