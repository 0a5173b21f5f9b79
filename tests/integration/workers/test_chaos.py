"""Issue 18: many short campaigns under seeded faults, each followed by the invariant checker.

`make test` runs CHAOS_SEEDS seeds (15 by default: ~5 s a seed on moto here); `make chaos SEEDS=10000 FIRST=1`
runs more (CHAOS_SEEDS, CHAOS_FIRST_SEED); a failing seed prints the command that replays it.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest
from chalice.test import Client

from tests.support.chaos import replay_command, run_seed
from tests.support.pump import Pump

FIRST = int(os.environ.get("CHAOS_FIRST_SEED", "1"))


def _seeds() -> list[int]:
    return list(range(FIRST, FIRST + int(os.environ.get("CHAOS_SEEDS", "15"))))


def test_campaigns_under_seeded_faults_keep_every_invariant(
    client: Client, tenant: tuple[str, str], pump: Pump, capsys: pytest.CaptureFixture[str]
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
