"""An agent's extraction schema reads back as it was accepted, defaults included."""

from __future__ import annotations

import json

from chalice.test import Client


def test_a_field_given_without_its_type_reads_back_as_text(client: Client, tenant: tuple[str, str]) -> None:
    # Given an agent changed to an extraction field that leaves `type` to its default
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = {"extraction_schema": [{"name": "callback_time"}]}
    patched = client.http.patch(f"/agents/{agent_id}", body=json.dumps(body), headers=auth)
    assert patched.status_code == 200, patched.body
    # When the agent and the list of agents are read back
    one = client.http.get(f"/agents/{agent_id}", headers=auth)
    listed = client.http.get("/agents", headers=auth)
    # Then both answer 200 (not a 400 from the stored schema) with the field
    assert one.status_code == 200, one.body
    assert listed.status_code == 200, listed.body
    assert json.loads(one.body)["extraction_schema"][0]["name"] == "callback_time"
