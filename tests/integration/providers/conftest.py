"""Agents on real providers, pointed at local fakes: the SDKs and our HTTP client do real requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.services.container import Dependencies
from tests.support.fake_twilio import FakeTwilio
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
def voice_agent(deps: Dependencies, monkeypatch: pytest.MonkeyPatch) -> Iterator[VoiceAgent]:
    agent = VoiceAgent()
    with agent.running():
        monkeypatch.setenv("HTTP_AGENT_TOKEN", TOKEN)
        monkeypatch.setenv("HTTP_AGENT_SIGNING_SECRET", SIGNING_SECRET)
        monkeypatch.setattr(deps.settings, "webhook_allow_private", True)  # the agent listens on 127.0.0.1
        yield agent
