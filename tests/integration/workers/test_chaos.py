"""Issue 18: many short campaigns under seeded faults, each followed by the invariant checker.

`make test` runs CHAOS_SEEDS (default 200) seeds; `make chaos SEEDS=10000` more; `CHAOS_SEED=n` replays one.
"""

from __future__ import annotations

import os
import time
from collections import Counter

from chalice.test import Client

from tests.support.chaos import replay_command, run_seed
from tests.support.pump import Pump


def _seeds() -> list[int]:
    if os.environ.get("CHAOS_SEED"):
        return [int(os.environ["CHAOS_SEED"])]
    first = int(os.environ.get("CHAOS_FIRST_SEED", "1"))
    return list(range(first, first + int(os.environ.get("CHAOS_SEEDS", "15"))))


def test_campaigns_under_seeded_faults_keep_every_invariant(
    client: Client, tenant: tuple[str, str], pump: Pump
) -> None:
    # Given many seeds, each a short campaign (sizes, caps, retries, pause/resume/stop) under its own faults
    started = time.perf_counter()
    injected: Counter[str] = Counter()
    failures = []
    # When each runs to its end and the clock passes every timeout
    for seed in _seeds():
        result = run_seed(pump, client, tenant, seed)
        injected += result.injected
        if result.violations:
            failures.append(result)
            print(f"\nseed {seed} broke an invariant; replay: {replay_command(seed)}")
            print("\n".join(result.violations))
            print("\n".join(result.trail))
    elapsed = time.perf_counter() - started
    print(
        f"\nchaos: {len(_seeds())} seeds in {elapsed:.1f} s, faults injected {sum(injected.values())}: "
        f"{dict(sorted(injected.items()))}, seeds failing {[r.seed for r in failures]}"
    )
    # Then every invariant held for every seed
    assert not failures, [f"seed {r.seed}: {r.violations}" for r in failures]
