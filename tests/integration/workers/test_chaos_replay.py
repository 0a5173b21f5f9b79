"""Issue 18's replay promise: `make chaos FIRST=<seed> SEEDS=1` (a new process, the seed alone) injects the
faults a seed injected in a longer run, at the same points, and ends in the same state. Anything a warm
container keeps and that decides whether a handler calls AWS breaks that unless the harness empties it per seed."""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import chalicelib
from chalicelib.services.warm_cache import WarmCache
from tests.support.chaos import World, run_seed
from tests.support.trails import differences, load, record
from tests.support.world import WARM_STATE

# Caches that never decide whether an AWS call is made: the process's settings, container, clients (the fault
# hooks live on them), static documents, and pure functions of their arguments (the domain layer makes no call).
CALL_FREE = {
    "chalicelib.settings.get_settings",
    "chalicelib.services.container.get_dependencies",
    "chalicelib.aws._session",
    "chalicelib.aws._client",
    "chalicelib.aws.throttled_class",
    "chalicelib.adapters.pinned_http._tls",
    "chalicelib.providers.twilio.TwilioProvider._client",
    "chalicelib.api.dashboard",
    "chalicelib.api.openapi",
    "chalicelib.api.reference",
    "chalicelib.services.dialing._zones",
    "chalicelib.domain",
}


def _caches() -> Iterator[tuple[str, object]]:
    """Every lru_cache (module function or method) and WarmCache defined in chalicelib, by dotted name."""
    for info in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, WarmCache) or (
                isinstance(value, functools._lru_cache_wrapper) and value.__module__ == module.__name__
            ):
                yield f"{module.__name__}.{name}", value
            elif inspect.isclass(value) and value.__module__ == module.__name__:
                for attr, member in vars(value).items():
                    if isinstance(member, functools._lru_cache_wrapper):
                        yield f"{module.__name__}.{name}.{attr}", member


def test_every_cache_in_chalicelib_is_emptied_per_seed_or_makes_no_aws_call() -> None:
    # Given every cache the service defines
    found = dict(_caches())
    assert any(isinstance(cache, WarmCache) for cache in found.values())  # the walk sees them at all
    # When those emptied per seed and those known to make no AWS call are set aside
    unknown = [
        name
        for name, cache in found.items()
        if not any(cache is kept for kept in WARM_STATE)
        and not any(name == free or name.startswith(free + ".") for free in CALL_FREE)
    ]
    # Then none is left: a new one goes in WARM_STATE (tests/support/world.py) or, when it makes no call, here
    assert unknown == []


@pytest.mark.timeout(600)
def test_a_seed_run_after_another_replays_alone_in_a_new_process(world: World, tmp_path: Path) -> None:
    # Given seed 190 run alone in a new process, as the printed replay command runs it
    alone = tmp_path / "alone.jsonl"
    env = {**os.environ, "CHAOS_SEEDS": "1", "CHAOS_FIRST_SEED": "190", "CHAOS_TRAILS": str(alone)}
    command = [sys.executable, "-m", "pytest", "tests/integration/workers/test_chaos.py", "-q", "-p", "no:logging"]
    subprocess.run([*command, "-k", "test_campaigns_under_seeded_faults"], env=env, check=True, capture_output=True)
    # When it runs here after seed 189 (and after whatever this process ran before)
    run_seed(world, 189)
    here = tmp_path / "here.jsonl"
    record(str(here), run_seed(world, 190))
    # Then it injected the same faults at the same points and ended in the same state
    assert load(str(alone)).keys() == {190}
    assert differences(load(str(alone)), load(str(here))) == []
