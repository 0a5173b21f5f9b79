"""The agent rules live in the use cases, so a caller other than the API (the demo seeding, a script)
cannot store an agent the API would refuse."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from chalicelib.domain.agents import AgentCreate, AgentPatch
from chalicelib.errors import BadRequest
from chalicelib.services.agents import create_agent, update_agent
from chalicelib.services.container import Services

PRIVATE_HOOK = "http://10.0.0.5/hook"


def test_create_agent_refuses_a_private_webhook_as_the_api_does(
    svc: Services, client: Client, tenant: tuple[str, str]
) -> None:
    # Given the API's answer to an agent whose webhook points at a private address
    key, _ = tenant
    response = client.http.post(
        "/agents",
        body=json.dumps({"name": "A", "webhook_url": PRIVATE_HOOK}),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    # When the same agent is created without the API
    with pytest.raises(BadRequest) as raised:
        create_agent(svc.agents, "script", AgentCreate(name="A", webhook_url=PRIVATE_HOOK), svc.settings)
    # Then it is refused with the same error, and nothing is stored
    assert raised.value.code == json.loads(response.body)["code"] == "invalid_webhook_url"
    assert svc.agents.list("script") == []


def test_create_agent_checks_the_provider_config(svc: Services) -> None:
    spec = AgentCreate(name="A", provider="http", provider_config={"endpoint": "http://127.0.0.1/call"})
    with pytest.raises(BadRequest) as raised:
        create_agent(svc.agents, "script", spec, svc.settings)
    assert raised.value.code == "invalid_webhook_url"
    with pytest.raises(BadRequest) as raised:
        create_agent(svc.agents, "script", AgentCreate(name="A", provider="http"), svc.settings)
    assert raised.value.code == "invalid_provider_config"
    assert svc.agents.list("script") == []


def test_update_agent_refuses_a_private_webhook(svc: Services, tenant: tuple[str, str]) -> None:
    _, agent_id = tenant
    with pytest.raises(BadRequest) as raised:
        update_agent(svc.agents, "tenant-a", agent_id, AgentPatch(webhook_url=PRIVATE_HOOK), svc.settings)
    assert raised.value.code == "invalid_webhook_url"
    assert svc.agents.get("tenant-a", agent_id).webhook_url is None
