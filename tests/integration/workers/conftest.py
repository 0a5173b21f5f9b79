"""Fixtures the chaos seeds share (test_chaos.py runs them, test_chaos_replay.py replays them)."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
from botocore.retries.standard import ExponentialBackoff
from chalice.test import Client

from chalicelib.services.container import Dependencies
from local.moto_costs import remove_moto_overheads
from tests.support.chaos import World
from tests.support.pump import Pump
from tests.support.voice_agent import SIGNING_SECRET, TOKEN, VoiceAgent
from tests.support.webhooks import Receiver
from tests.support.world import has_visible_messages


@pytest.fixture
def world(client: Client, deps: Dependencies, pump: Pump, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The stack as the chaos seeds run it: webhooks to a local receiver, retried after 5 s and 30 s then dead;
    an HTTP voice agent; botocore's retries without their real-time backoff (the clock is the pump's)."""
    short = {"webhook_retry_schedule": (5, 30), "webhook_max_attempts": 3}
    for name, value in {"webhook_allow_private": True, "webhook_timeout_seconds": 2.0, **short}.items():
        monkeypatch.setattr(deps.settings, name, value)  # the one object the providers hold too
    # Nothing may hang on real time, or a seed would not replay on a loaded machine: the warm caches age on the
    # pump's clock (services/warm_cache.py), and no answer times out unless a receiver stalls.
    pump.peek = functools.partial(has_visible_messages, deps.settings)
    monkeypatch.setenv("HTTP_AGENT_TOKEN", TOKEN)
    monkeypatch.setenv("HTTP_AGENT_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    remove_moto_overheads()  # the local emulator's: no answer changes (tests/local/test_moto_costs.py), ~40% less CPU
    receiver, agent = Receiver(), VoiceAgent()
    world = World(pump, client, receiver, agent)
    with agent.running():
        yield world
    world.injector.uninstall()  # its client hook is process-wide: a later test must not inherit it
    receiver.close()
