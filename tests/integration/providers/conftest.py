"""Agents on real providers, pointed at local fakes: the SDKs and our HTTP client do real requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib.domain.records import Execution
from chalicelib.services.container import Dependencies
from tests.support.fake_twilio import FakeTwilio
from tests.support.providers import executions, start_batch, use_provider
from tests.support.pump import Pump
from tests.support.voice_agent import SIGNING_SECRET, TOKEN, VoiceAgent


@pytest.fixture
def twilio(deps: Dependencies, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    with fake.running():
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake.account_sid)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", fake.auth_token)
        monkeypatch.setattr(deps.settings, "twilio_api_base_url", fake.url)
        yield fake


@pytest.fixture
def timed_out_on_twilio(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> Execution:
    """A one-contact batch whose Twilio request timed out after Twilio created the call (Twilio takes no
    idempotency key), once the dialer has had every chance to try again (its backoffs are seconds)."""
    use_provider(client, tenant, "twilio")
    monkeypatch.setattr(deps.settings, "provider_timeout_seconds", 0.2)
    twilio.stalls = [1.0]
    batch_id = start_batch(client, tenant, 1)
    pump.run(until=lambda: pump.advanced_seconds >= 120, advance_seconds=5)
    [execution] = executions(deps, batch_id)
    return execution


@pytest.fixture
def voice_agent(deps: Dependencies, monkeypatch: pytest.MonkeyPatch) -> Iterator[VoiceAgent]:
    agent = VoiceAgent()
    with agent.running():
        monkeypatch.setenv("HTTP_AGENT_TOKEN", TOKEN)
        monkeypatch.setenv("HTTP_AGENT_SIGNING_SECRET", SIGNING_SECRET)
        monkeypatch.setattr(deps.settings, "webhook_allow_private", True)  # the agent listens on 127.0.0.1
        yield agent
