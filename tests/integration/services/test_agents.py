"""The agent rules live in the use cases, so a caller other than the API (the demo seeding, a script)
cannot store an agent the API would refuse."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.agents import AgentCreate, AgentPatch
from chalicelib.errors import BadRequest
from chalicelib.services.agents import create_agent, update_agent
from chalicelib.services.container import Dependencies

PRIVATE_HOOK = "http://10.0.0.5/hook"


def test_create_agent_refuses_a_private_webhook_as_the_api_does(
    deps: Dependencies, client: Client, tenant: tuple[str, str]
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
        create_agent(deps.agents, "script", AgentCreate(name="A", webhook_url=PRIVATE_HOOK), deps.settings)
    # Then it is refused with the same error, and nothing is stored
    assert raised.value.code == json.loads(response.body)["code"] == "invalid_webhook_url"
    assert deps.agents.list("script") == []


def test_create_agent_checks_the_provider_config(deps: Dependencies) -> None:
    spec = AgentCreate(name="A", provider="http", provider_config={"endpoint": "http://127.0.0.1/call"})
    with pytest.raises(BadRequest) as raised:
        create_agent(deps.agents, "script", spec, deps.settings)
    assert raised.value.code == "invalid_webhook_url"
    with pytest.raises(BadRequest) as raised:
        create_agent(deps.agents, "script", AgentCreate(name="A", provider="http"), deps.settings)
    assert raised.value.code == "invalid_provider_config"
    assert deps.agents.list("script") == []


def test_update_agent_refuses_a_private_webhook(deps: Dependencies, tenant: tuple[str, str]) -> None:
    _, agent_id = tenant
    with pytest.raises(BadRequest) as raised:
        update_agent(deps.agents, "tenant-a", agent_id, AgentPatch(webhook_url=PRIVATE_HOOK), deps.settings)
    assert raised.value.code == "invalid_webhook_url"
    assert deps.agents.get("tenant-a", agent_id).webhook_url is None


# --- calling hours: one form stored -------------------------------------------------------------------------

HOURS = {"mon": [["09:00", "12:00"], ["13:00", "20:00"]], "sat": [["22:00", "02:00"]]}


def _agent_call(client: Client, key: str, method: str, path: str, body: dict[str, object]) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    response = getattr(client.http, method)(path, body=json.dumps(body), headers=headers)
    return response.status_code, json.loads(response.body)


def test_calling_hours_and_the_shorthand_together_are_refused(client: Client, tenant: tuple[str, str]) -> None:
    # Given / When an agent is created (or patched) with both calling_hours and call_start_hour
    key, agent_id = tenant
    for method, path in (("post", "/agents"), ("patch", f"/agents/{agent_id}")):
        status, answer = _agent_call(
            client, key, method, path, {"name": "A", "calling_hours": HOURS, "call_start_hour": 8}
        )
        # Then it is a 400 that says which replaces which
        assert status == 400, answer
        assert "calling_hours replaces" in answer["details"][0]["message"] and answer["code"] == "validation_error"


def test_one_form_of_calling_hours_is_stored(client: Client, tenant: tuple[str, str], deps: Dependencies) -> None:
    # Given an agent created with weekly hours, blocked dates and the holiday opt-in
    key, _ = tenant
    body = {"name": "A", "calling_hours": HOURS, "blocked_dates": [{"start": "2026-12-24", "end": "2026-12-26"}]}
    status, agent = _agent_call(client, key, "post", "/agents", {**body, "skip_public_holidays": True})
    assert status == 201, agent
    # Then the shorthand shows null (it is not what applies), and the rules read back as sent
    assert (agent["call_start_hour"], agent["call_end_hour"], agent["call_days"]) == (None, None, None)
    assert agent["calling_hours"] == HOURS and agent["skip_public_holidays"] is True
    assert agent["blocked_dates"] == [{"start": "2026-12-24", "end": "2026-12-26"}]
    # When the shorthand is patched, it replaces calling_hours; the parts not sent take their defaults
    status, agent = _agent_call(client, key, "patch", f"/agents/{agent['id']}", {"call_end_hour": 18})
    assert status == 200, agent
    assert agent["calling_hours"] is None
    assert (agent["call_start_hour"], agent["call_end_hour"], len(agent["call_days"])) == (9, 18, 7)
    # And patching calling_hours again clears the shorthand
    status, agent = _agent_call(
        client, key, "patch", f"/agents/{agent['id']}", {"calling_hours": {"sun": [["10:00", "11:00"]]}}
    )
    assert (status, agent["call_start_hour"], agent["calling_hours"]) == (200, None, {"sun": [["10:00", "11:00"]]})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"calling_hours": {"mon": [["9:00", "12:00"]]}}, "calling_hours"),
        ({"calling_hours": {"mon": [["12:00", "12:00"]]}}, "calling_hours"),
        ({"calling_hours": {"funday": [["09:00", "12:00"]]}}, "calling_hours"),
        ({"calling_hours": {}}, "calling_hours"),
        ({"blocked_dates": [{"start": "2026-12-26", "end": "2026-12-24"}]}, "blocked_dates"),
        ({"blocked_dates": [{"start": "christmas"}]}, "blocked_dates"),
    ],
)
def test_bad_calling_rules_are_a_400_naming_the_field(
    client: Client, tenant: tuple[str, str], body: dict[str, object], field: str
) -> None:
    key, agent_id = tenant
    status, answer = _agent_call(client, key, "patch", f"/agents/{agent_id}", body)
    assert status == 400, answer
    assert answer["details"][0]["field"].startswith(field), answer
