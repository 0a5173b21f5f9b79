"""Issue 18: many short campaigns under seeded faults, each followed by the invariant checker.

`make test` runs CHAOS_SEEDS seeds (30 by default: 1.5-5 s a seed on moto here, by load);
`make chaos SEEDS=10000 FIRST=1` runs more (CHAOS_SEEDS, CHAOS_FIRST_SEED); a failing seed prints the command
that replays it.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib.services.container import Dependencies
from chalicelib.services.webhooks import current_secret
from tests.support.chaos import replay_command, run_seed
from tests.support.pump import Pump
from tests.support.webhooks import Receiver

FIRST = int(os.environ.get("CHAOS_FIRST_SEED", "1"))


def _seeds() -> list[int]:
    return list(range(FIRST, FIRST + int(os.environ.get("CHAOS_SEEDS", "30"))))


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.mark.timeout(60 + 30 * len(_seeds()))  # ~5 s a seed here; pytest-timeout's 120 s is for one case
def test_campaigns_under_seeded_faults_keep_every_invariant(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    webhook_receiver: Receiver,
    pump: Pump,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given many seeds, each a short campaign (sizes, caps, retries, pause/resume/stop, webhooks to a receiver
    # that fails now and then) under its own faults; webhooks retried after 5 s and 30 s, then dead
    short = {"webhook_retry_schedule": (5, 30), "webhook_max_attempts": 3}
    deps.settings = deps.settings.model_copy(
        update={"webhook_allow_private": True, "webhook_timeout_seconds": 1.0, **short}
    )
    webhook_receiver.secrets = [str(current_secret(deps, "tenant-a").webhook_secret)]
    started = time.perf_counter()
    injected: Counter[str] = Counter()
    failures = []
    # When each runs to its end and the clock passes every timeout
    for seed in _seeds():
        result = run_seed(pump, client, tenant, seed, webhook_receiver)
        injected += result.injected
        if result.violations:
            failures.append(result)
            print(f"\nseed {seed} broke an invariant; replay: {replay_command(seed, FIRST)}")
            print("\n".join(result.violations))
            print("\n".join(result.trail))
    elapsed = time.perf_counter() - started
    with capsys.disabled():  # the run time and the faults, shown by `make test` too
        print(
            f"\nchaos: {len(_seeds())} seeds in {elapsed:.1f} s, faults injected {sum(injected.values())}: "
            f"{dict(sorted(injected.items()))}, seeds failing {[r.seed for r in failures]}"
        )
    # Then every invariant held for every seed
    assert not failures, [f"seed {r.seed}: {r.violations}" for r in failures]
