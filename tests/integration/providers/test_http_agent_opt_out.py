"""An HTTP voice agent's callback saying the person opted out suppresses the number (`call_opt_out`)."""

from __future__ import annotations

import json

from chalice.test import Client

from chalicelib.services.container import Dependencies
from tests.support.providers import post_callback, settle, start_batch, use_provider
from tests.support.pump import Pump
from tests.support.voice_agent import VoiceAgent


def test_an_opt_out_in_a_signed_callback_suppresses_the_number_through_the_field_mapping(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    # Given an agent whose voice agent reports opt-outs as `do_not_call`
    config = {"endpoint": voice_agent.url, "event_fields": {"opt_out": "do_not_call"}}
    use_provider(client, tenant, "http", provider_config=config)
    [execution] = settle(deps, pump, start_batch(client, tenant, 1))
    # When its signed end-of-call report says the person asked not to be called again
    payload = {"call_id": execution.provider_call_id, "status": "completed", "do_not_call": "true"}
    headers, body = VoiceAgent.signed(payload)
    assert post_callback(client, "http", execution.execution_id, headers, body) == 204
    pump.run()
    # Then the call ends as reported and the number is on the list, from that call, for the tenant only
    final = deps.executions.find(execution.execution_id)
    assert final is not None and final.status == "completed"
    auth = {"Authorization": f"Bearer {tenant[0]}"}
    entry = json.loads(client.http.get("/suppressions/%2B12025550100", headers=auth).body)
    assert (entry["source"], entry["execution_id"]) == ("call_opt_out", execution.execution_id)
    assert entry["added_by"] is None


def test_a_callback_without_the_field_suppresses_nothing(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url})
    [execution] = settle(deps, pump, start_batch(client, tenant, 1))
    headers, body = VoiceAgent.signed({"call_id": execution.provider_call_id, "status": "completed"})
    assert post_callback(client, "http", execution.execution_id, headers, body) == 204
    pump.run()
    assert deps.numbers.get("tenant-a", "+12025550100") is None
