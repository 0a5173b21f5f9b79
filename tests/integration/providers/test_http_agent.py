"""An HTTP voice agent (Bolna/Bland-style single-call API) on 127.0.0.1, with HMAC-signed status webhooks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.records import Execution
from chalicelib.services.container import Dependencies
from tests.support.providers import (
    call_state,
    crash_once_after_placement,
    crash_then_redeliver,
    executions,
    post_callback,
    settle,
    start_batch,
    use_provider,
)
from tests.support.pump import Pump
from tests.support.voice_agent import VoiceAgent

PUBLIC = "https://calls.example.test/api"
BLAND_STYLE = {
    "request_fields": {"to": "phone_number", "from": "from", "agent": "pathway_id", "variables": "request_data"},
    "call_id_field": "call_id",
    "event_fields": {
        "duration": "call_length",
        "cost": "price",
        "transcript": "concatenated_transcript",
        "recording_url": "recording_url",
        "voicemail": "answered_by_machine",
    },
    "status_map": {"success": "completed", "voicemail": "completed"},
}


@pytest.fixture(params=[True, False], ids=["idempotency-key-honoured", "no-idempotency"])
def idempotent(
    request: pytest.FixtureRequest, client: Client, tenant: tuple[str, str], voice_agent: VoiceAgent
) -> bool:
    """The tenant's agent on the voice agent, once honouring the Idempotency-Key and once not: the param."""
    honoured = bool(request.param)
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url, "idempotent": honoured})
    return honoured


def test_the_call_request_carries_recipient_caller_id_agent_variables_and_our_reference(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    # Given an agent on an HTTP voice agent with Bolna-style default fields and a prompt template
    use_provider(
        client,
        tenant,
        "http",
        provider_config={"endpoint": voice_agent.url, "agent_ref": "remote-agent-7"},
        prompt="You are calling {{customer_name}} about {plan}.",
    )
    # When a one-contact batch runs
    batch_id = start_batch(client, tenant, 1)
    [execution] = settle(deps, pump, batch_id)
    # Then one POST was made with the bearer token, an idempotency key and the contact's data
    [(headers, body)] = voice_agent.received
    assert headers["authorization"] == "Bearer va-token-123"
    assert headers["idempotency-key"] == execution.execution_id
    assert body["recipient_phone_number"] == "+12025550100" and body["from_phone_number"] == "+12025550147"
    assert body["agent_id"] == "remote-agent-7"
    assert body["user_data"] == {"customer_name": "Name0", "plan": "plan0"}
    assert body["metadata"] == {"execution_id": execution.execution_id}
    assert body["webhook_url"] == f"{PUBLIC}/providers/http/events?execution_id={execution.execution_id}"
    assert body["agent_prompt"] == "You are calling Name0 about plan0."
    # And the provider's call id is kept
    assert str(execution.provider_call_id).startswith("va-")


def test_signed_status_webhooks_are_mapped_through_the_agents_field_mapping(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    # Given a Bland-style mapping
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url, **BLAND_STYLE})
    [execution] = settle(deps, pump, start_batch(client, tenant, 1))
    eid = execution.execution_id
    assert voice_agent.received[0][1]["phone_number"] == "+12025550100"
    assert voice_agent.received[0][1]["request_data"]["customer_name"] == "Name0"
    # When the agent reports the call's end
    headers, body = VoiceAgent.signed(
        {
            "call_id": execution.provider_call_id,
            "status": "success",
            "call_length": 1.5,
            "price": 0.135,
            "concatenated_transcript": "user: hi",
            "recording_url": "https://rec.example/1.mp3",
            "answered_by_machine": False,
        }
    )
    assert post_callback(client, "http", eid, headers, body) == 204
    pump.run()
    # Then the execution ends with the mapped fields
    final = deps.executions.find(eid)
    assert final is not None and final.status == "completed"
    assert (final.conversation_duration, final.total_cost) == (1.5, 0.135)
    assert final.transcript == "user: hi" and final.recording_url == "https://rec.example/1.mp3"
    assert final.answered_by_voice_mail is False


def test_forged_tampered_stale_and_replayed_webhooks_are_403_and_change_nothing(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url})
    [execution] = settle(deps, pump, start_batch(client, tenant, 1))
    eid = execution.execution_id
    payload = {"status": "completed", "call_id": execution.provider_call_id, "conversation_duration": 30}
    headers, body = VoiceAgent.signed(payload)
    forged, _ = VoiceAgent.signed(payload, secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")
    assert post_callback(client, "http", eid, {**forged, "webhook-id": headers["webhook-id"]}, body) == 403
    assert post_callback(client, "http", eid, headers, body.replace("30", "3000")) == 403
    stale = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 3600)}
    assert post_callback(client, "http", eid, stale, body) == 403
    assert post_callback(client, "http", eid, {"Content-Type": "application/json"}, body) == 403
    assert post_callback(client, "http", eid, headers, b"\xff\xfe not json") == 403
    pump.run()
    assert deps.executions.find(eid).status == "initiated"  # type: ignore[union-attr]
    assert post_callback(client, "http", eid, headers, body) == 204
    assert post_callback(client, "http", eid, headers, body) == 403  # the same webhook-id again
    pump.run()
    assert deps.executions.find(eid).conversation_duration == 30  # type: ignore[union-attr]


def test_refusals_fail_the_call_and_outages_are_retried(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url})
    voice_agent.answer_next(422, {"message": "recipient_phone_number is on the do-not-call list"})
    voice_agent.answer_next(502, {}, times=1)
    voice_agent.answer_next(429, {"message": "slow down"}, Retry_After="3")
    rows = settle(deps, pump, start_batch(client, tenant, 2))
    by_status = {str(e.status): e for e in rows}
    assert by_status["failed"].error_message == "422: recipient_phone_number is on the do-not-call list"
    assert str(by_status["initiated"].provider_call_id).startswith("va-")
    assert len(voice_agent.received) == 4  # one refusal, then 502 and 429 before the other call went through
    keys = [h["idempotency-key"] for h, _ in voice_agent.received]
    assert keys.count(by_status["initiated"].execution_id) == 3  # every retry carries the same key


def test_an_endpoint_on_a_private_address_is_refused_when_the_agent_is_saved(
    client: Client, tenant: tuple[str, str], deps: Dependencies
) -> None:
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = {"provider": "http", "provider_config": {"endpoint": "http://169.254.169.254/latest/meta-data"}}
    response = client.http.patch(f"/agents/{agent_id}", body=json.dumps(body), headers=auth)
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["code"] == "invalid_webhook_url"
    missing = client.http.patch(f"/agents/{agent_id}", body=json.dumps({"provider": "http"}), headers=auth)
    assert missing.status_code == 400
    assert json.loads(missing.body)["details"][0]["field"] == "provider_config.endpoint"


def test_a_dialer_crash_after_the_request_re_places_only_where_the_key_makes_it_safe(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    voice_agent: VoiceAgent,
    monkeypatch: pytest.MonkeyPatch,
    idempotent: bool,
) -> None:
    # Given an agent on the voice agent (with and without an honoured key), and a dialer that dies after the
    # voice agent accepted the call, before recording it
    crash_once_after_placement(deps, monkeypatch)
    batch_id = start_batch(client, tenant, 1)
    # When SQS hands the message back
    crash_then_redeliver(pump)
    [execution] = executions(deps, batch_id)
    keys = [h["idempotency-key"] for h, _ in voice_agent.received]
    if idempotent:
        # Then it is placed again with the same key (the agent dedupes), and recorded
        assert keys == [execution.execution_id] * 2
        assert str(execution.provider_call_id).startswith("va-")
    else:
        # Then it is never placed again: the sweeper will end it unless the agent reports on it
        assert keys == [execution.execution_id]
        assert execution.provider_call_id is None


def ended(execution: Execution, **extra: Any) -> dict[str, Any]:
    """What a Bolna-style agent sends at the end of this call: its call id and our reference echoed."""
    return {
        "status": "completed",
        "call_id": execution.provider_call_id,
        "metadata": {"execution_id": execution.execution_id},
        "conversation_duration": 61,
        "total_cost": 0.5,
        **extra,
    }


def test_a_genuine_callback_for_one_call_posted_to_another_calls_url_is_403_and_changes_nothing(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    # Given two live calls X and Y of one agent
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url})
    x, y = settle(deps, pump, start_batch(client, tenant, 2))
    before = call_state(deps, y)
    assert before["lease"] is not None and before["live_calls"] == 2
    # When X's genuine, correctly signed callback is re-posted unchanged to Y's URL
    headers, body = VoiceAgent.signed(ended(x))
    # Then it is refused, and Y's status, counters and live-call slot are untouched
    assert post_callback(client, "http", y.execution_id, headers, body) == 403
    pump.run()
    assert call_state(deps, y) == before
    # And so is a body naming only X's call id, or only X's execution id
    for only in ({"call_id": x.provider_call_id}, {"metadata": {"execution_id": x.execution_id}}):
        headers_only, body_only = VoiceAgent.signed({"status": "completed", **only})
        assert post_callback(client, "http", y.execution_id, headers_only, body_only) == 403
    pump.run()
    assert call_state(deps, y) == before
    # And the same callback still completes X, the call it was issued for
    assert post_callback(client, "http", x.execution_id, headers, body) == 204
    pump.run()
    done = deps.executions.find(x.execution_id)
    assert done is not None and (done.status, done.conversation_duration) == ("completed", 61)
    assert call_state(deps, y)["execution"] == before["execution"]


def test_a_callback_for_another_tenants_call_is_403_and_changes_nothing(
    client: Client,
    tenant: tuple[str, str],
    other_tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    voice_agent: VoiceAgent,
) -> None:
    # Given two tenants whose agents use the same voice agent (and, locally, the same signing secret)
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url})
    use_provider(client, other_tenant, "http", provider_config={"endpoint": voice_agent.url})
    [mine] = settle(deps, pump, start_batch(client, tenant, 1))
    [theirs] = settle(deps, pump, start_batch(client, other_tenant, 1))
    before = call_state(deps, theirs)
    # When a genuine callback for my call is posted to the other tenant's call
    headers, body = VoiceAgent.signed(ended(mine))
    assert post_callback(client, "http", theirs.execution_id, headers, body) == 403
    pump.run()
    # Then their call, counters and live-call slot are unchanged
    assert call_state(deps, theirs) == before
    # And it still completes mine
    assert post_callback(client, "http", mine.execution_id, headers, body) == 204
    pump.run()
    assert deps.executions.find(mine.execution_id).status == "completed"  # type: ignore[union-attr]


def test_a_webhook_id_seen_once_is_refused_on_every_execution(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url})
    x, y = settle(deps, pump, start_batch(client, tenant, 2))
    # Given X's callback was received
    headers, body = VoiceAgent.signed(ended(x), msg_id="msg_once")
    assert post_callback(client, "http", x.execution_id, headers, body) == 204
    pump.run()
    before = call_state(deps, y)
    # When a body for Y arrives signed under the same webhook-id
    replayed, body_y = VoiceAgent.signed(ended(y), msg_id="msg_once")
    # Then it is refused as a replay and Y is unchanged
    assert post_callback(client, "http", y.execution_id, replayed, body_y) == 403
    pump.run()
    assert call_state(deps, y) == before
    # And a fresh webhook-id for Y is accepted
    fresh, body_y = VoiceAgent.signed(ended(y))
    assert post_callback(client, "http", y.execution_id, fresh, body_y) == 204


def test_a_callback_echoing_our_execution_id_finds_a_call_whose_provider_id_was_never_recorded(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    voice_agent: VoiceAgent,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a call the voice agent placed but the dialer died before recording its call id
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url})
    crash_once_after_placement(deps, monkeypatch)
    batch_id = start_batch(client, tenant, 1)
    crash_then_redeliver(pump)
    [execution] = executions(deps, batch_id)
    eid = execution.execution_id
    assert execution.provider_call_id is None
    # When the agent reports with only its call id, nothing binds the callback to this call: refused
    headers, body = VoiceAgent.signed({"status": "completed", "call_id": "va-unrecorded"})
    assert post_callback(client, "http", eid, headers, body) == 403
    pump.run()
    assert deps.executions.find(eid).status == "initiated"  # type: ignore[union-attr]
    # When it echoes our execution id (as we sent it, in metadata.execution_id)
    headers, body = VoiceAgent.signed(ended(execution.model_copy(update={"provider_call_id": "va-unrecorded"})))
    assert post_callback(client, "http", eid, headers, body) == 204
    pump.run()
    # Then the call completes and its call id is now known
    final = deps.executions.find(eid)
    assert final is not None and final.status == "completed" and final.provider_call_id == "va-unrecorded"


def test_the_binding_fields_follow_the_agents_event_field_mapping(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    # Given an agent whose callbacks carry the call id as `id` and our reference as `context.ref`
    use_provider(
        client,
        tenant,
        "http",
        provider_config={"endpoint": voice_agent.url, "event_fields": {"call_id": "id", "reference": "context.ref"}},
    )
    x, y = settle(deps, pump, start_batch(client, tenant, 2))
    # Then a callback naming X either way completes X, and is refused on Y
    by_id = VoiceAgent.signed({"status": "completed", "id": x.provider_call_id})
    by_ref = VoiceAgent.signed({"status": "in-progress", "context": {"ref": x.execution_id}})
    for headers, body in (by_ref, by_id):
        assert post_callback(client, "http", y.execution_id, headers, body) == 403
        assert post_callback(client, "http", x.execution_id, headers, body) == 204
    pump.run()
    assert deps.executions.find(x.execution_id).status == "completed"  # type: ignore[union-attr]
    assert deps.executions.find(y.execution_id).status == "initiated"  # type: ignore[union-attr]


def test_a_request_that_times_out_after_the_agent_took_it_is_re_sent_only_where_the_key_makes_it_safe(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    voice_agent: VoiceAgent,
    monkeypatch: pytest.MonkeyPatch,
    idempotent: bool,
) -> None:
    # Given an agent on a voice agent (with and without an honoured key) that takes the call but answers after
    # our request timed out
    monkeypatch.setattr(deps.settings, "provider_timeout_seconds", 0.2)
    voice_agent.stalls = [1.0]
    batch_id = start_batch(client, tenant, 1)
    # When the dialer has had every chance to try again
    pump.run(until=lambda: pump.advanced_seconds >= 120, advance_seconds=5)
    [execution] = executions(deps, batch_id)
    keys = [h["idempotency-key"] for h, _ in voice_agent.received]
    if idempotent:
        # Then it is sent again with the same key (the agent dedupes), and recorded
        assert keys == [execution.execution_id] * 2
        assert str(execution.provider_call_id).startswith("va-")
    else:
        # Then it is never sent again: the agent's report (or the sweeper) ends it
        assert keys == [execution.execution_id]
        assert execution.status == "initiated" and execution.provider_call_id is None
