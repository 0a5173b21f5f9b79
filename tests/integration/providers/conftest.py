"""Agents on real providers, pointed at local fakes: the SDKs and our HTTP client do real requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.services.container import Services
from tests.integration.workers.test_campaign import contacts_csv, post_csv
from tests.support.fake_twilio import FakeTwilio
from tests.support.voice_agent import SIGNING_SECRET, TOKEN, VoiceAgent


@pytest.fixture
def twilio(svc: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    with fake.running():
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake.account_sid)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", fake.auth_token)
        monkeypatch.setattr(svc.settings, "twilio_api_base_url", fake.url)
        yield fake


def use_provider(client: Client, tenant: tuple[str, str], provider: str, **fields: Any) -> dict[str, str]:
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    response = client.http.patch(f"/agents/{agent_id}", body=json.dumps({"provider": provider, **fields}), headers=auth)
    assert response.status_code == 200, response.body
    return auth


def start_batch(client: Client, tenant: tuple[str, str], n: int) -> str:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id}, contacts_csv(n))
    assert response.status_code == 201, response.body
    batch_id: str = json.loads(response.body)["batch_id"]
    ran = client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"})
    assert ran.status_code == 200, ran.body
    return batch_id


def executions(svc: Services, batch_id: str) -> list[dict[str, Any]]:
    return list(svc.executions.iter_batch(batch_id))


def post_callback(client: Client, provider: str, execution_id: str, headers: dict[str, str], body: str | bytes) -> int:
    response = client.http.post(f"/providers/{provider}/events?execution_id={execution_id}", headers=headers, body=body)
    return int(response.status_code)


@pytest.fixture
def voice_agent(svc: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[VoiceAgent]:
    agent = VoiceAgent()
    with agent.running():
        monkeypatch.setenv("HTTP_AGENT_TOKEN", TOKEN)
        monkeypatch.setenv("HTTP_AGENT_SIGNING_SECRET", SIGNING_SECRET)
        monkeypatch.setattr(svc.settings, "webhook_allow_private", True)  # the agent listens on 127.0.0.1
        yield agent
