"""Twilio through the official SDK against a local fake of its REST API; callbacks signed as Twilio signs."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.services.container import Dependencies
from tests.support.fake_twilio import FakeTwilio
from tests.support.providers import call_state, placed, post_callback, settle, start_batch, use_provider
from tests.support.pump import Pump

PUBLIC = "https://calls.example.test/api"


def test_the_call_is_created_with_callbacks_detection_and_the_filled_message(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    # Given an agent on Twilio
    use_provider(client, tenant, "twilio", provider_config={"ring_timeout_seconds": 25})
    # When a one-contact batch runs
    batch_id = start_batch(client, tenant, 1)
    execution = placed(deps, pump, batch_id)
    # Then Twilio was asked for exactly one call with the documented parameters
    [call] = twilio.calls
    assert call["To"] == ["+12025550100"] and call["From"] == ["+12025550147"]
    assert call["StatusCallback"] == [f"{PUBLIC}/providers/twilio/events?execution_id={execution.execution_id}"]
    assert call["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert call["StatusCallbackMethod"] == ["POST"]
    assert call["MachineDetection"] == ["Enable"] and call["Timeout"] == ["25"]
    assert "<Say>Hello Name0, this is Acme calling about your plan0 plan.</Say>" in call["Twiml"][0]
    # And the execution holds Twilio's call SID
    assert execution.status == "initiated" and str(execution.provider_call_id).startswith("CA")


def test_a_callback_sequence_moves_the_execution_to_its_end(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    use_provider(client, tenant, "twilio")
    batch_id = start_batch(client, tenant, 1)
    execution = placed(deps, pump, batch_id)
    eid, sid = execution.execution_id, execution.provider_call_id
    url = f"{PUBLIC}/providers/twilio/events?execution_id={eid}"
    seen = []
    for n, (status, extra) in enumerate(
        [("initiated", {}), ("ringing", {}), ("in-progress", {}), ("completed", {"CallDuration": "42"})]
    ):
        headers, body = twilio.callback(url, sid, status, SequenceNumber=str(n), **extra)
        assert post_callback(client, "twilio", eid, headers, body) == 204
        pump.run()
        seen.append(deps.executions.find(eid).status)  # type: ignore[union-attr]
    assert seen == ["initiated", "ringing", "in-progress", "completed"]
    final = deps.executions.find(eid)
    assert final is not None and final.conversation_duration == 42
    assert deps.batches.find(batch_id).status == "completed"  # type: ignore[union-attr]


def test_answering_machine_detection_marks_voicemail_and_the_voicemail_retry_follows(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    # Given a Twilio agent that retries voicemails once, a minute later
    retry = {"enabled": True, "max_retries": 1, "retry_on_voicemail": True, "retry_intervals_minutes": [1]}
    use_provider(client, tenant, "twilio", retry_config=retry)
    batch_id = start_batch(client, tenant, 1)
    execution = placed(deps, pump, batch_id)
    eid = execution.execution_id
    url = f"{PUBLIC}/providers/twilio/events?execution_id={eid}"
    headers, body = twilio.callback(
        url, execution.provider_call_id, "completed", CallDuration="9", AnsweredBy="machine_end_beep"
    )
    assert post_callback(client, "twilio", eid, headers, body) == 204
    pump.run()
    final = deps.executions.find(eid)
    assert final is not None and final.status == "completed" and final.answered_by_voice_mail is True
    # Then a second attempt is placed with Twilio a minute later
    pump.run(until=lambda: len(twilio.calls) == 2, advance_seconds=10)
    assert (twilio.accepted_at[1] - twilio.accepted_at[0]).total_seconds() >= 60
    attempts = sorted(e.attempt for e in deps.executions.iter_batch(batch_id))
    assert attempts == [1, 2]


def test_forged_tampered_replayed_and_foreign_callbacks_are_403_and_change_nothing(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    use_provider(client, tenant, "twilio")
    execution = placed(deps, pump, start_batch(client, tenant, 1))
    eid, sid = execution.execution_id, execution.provider_call_id
    url = f"{PUBLIC}/providers/twilio/events?execution_id={eid}"
    headers, body = twilio.callback(url, sid, "completed", CallDuration="42")
    # Forged: signed with another token
    forged_headers, _ = FakeTwilio(auth_token="0" * 32).callback(url, sid, "completed", CallDuration="42")
    assert post_callback(client, "twilio", eid, forged_headers, body) == 403
    # Unsigned
    assert post_callback(client, "twilio", eid, {"Content-Type": headers["Content-Type"]}, body) == 403
    # Tampered: a genuine signature over other values
    assert post_callback(client, "twilio", eid, headers, body.replace("CallDuration=42", "CallDuration=4200")) == 403
    # Signed for another execution's URL
    other_headers, other_body = twilio.callback(url.replace(eid, "x" * 32), sid, "completed")
    assert post_callback(client, "twilio", eid, other_headers, other_body) == 403
    # Another account, signed with its own token
    foreign = FakeTwilio(account_sid="AC" + "b2" * 16)
    foreign_headers, foreign_body = foreign.callback(url, sid, "completed")
    assert post_callback(client, "twilio", eid, foreign_headers, foreign_body) == 403
    # An extra query parameter is not ours
    assert (
        client.http.post(f"/providers/twilio/events?execution_id={eid}&x=1", headers=headers, body=body).status_code
        == 403
    )
    # Then nothing moved
    pump.run()
    assert deps.executions.find(eid).status == "initiated"  # type: ignore[union-attr]
    # And the genuine one is accepted once; its replay is refused and changes nothing
    assert post_callback(client, "twilio", eid, headers, body) == 204
    assert post_callback(client, "twilio", eid, headers, body) == 403
    pump.run()
    final = deps.executions.find(eid)
    assert final is not None and final.status == "completed" and final.conversation_duration == 42


def test_a_genuine_callback_for_one_call_posted_to_another_calls_url_is_403_and_changes_nothing(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    # Given two live Twilio calls X and Y
    use_provider(client, tenant, "twilio")
    x, y = settle(deps, pump, start_batch(client, tenant, 2))
    before = call_state(deps, y)
    # When X's genuine callback is re-posted unchanged to Y's URL
    x_url = f"{PUBLIC}/providers/twilio/events?execution_id={x.execution_id}"
    headers, body = twilio.callback(x_url, x.provider_call_id, "completed", CallDuration="42")
    # Then it is refused (Twilio's signature covers the URL) and Y is unchanged
    assert post_callback(client, "twilio", y.execution_id, headers, body) == 403
    pump.run()
    assert call_state(deps, y) == before
    # And it still completes X
    assert post_callback(client, "twilio", x.execution_id, headers, body) == 204
    pump.run()
    assert deps.executions.find(x.execution_id).status == "completed"  # type: ignore[union-attr]


def test_callbacks_for_unknown_executions_or_providers_are_refused(
    client: Client, tenant: tuple[str, str], deps: Dependencies, twilio: FakeTwilio
) -> None:
    url = f"{PUBLIC}/providers/twilio/events?execution_id=nope"
    headers, body = twilio.callback(url, "CA1", "completed")
    assert post_callback(client, "twilio", "nope", headers, body) == 403
    assert post_callback(client, "simulator", "nope", headers, body) == 404
    assert post_callback(client, "carrier-pigeon", "nope", headers, body) == 404
    assert post_callback(client, "twilio", "nope", headers, urlencode({"\x00": "\xff"})) == 403


def test_without_public_base_url_the_signature_is_checked_against_the_url_the_request_reached(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_provider(client, tenant, "twilio")
    execution = placed(deps, pump, start_batch(client, tenant, 1))
    eid, sid = execution.execution_id, execution.provider_call_id
    # Given no PUBLIC_BASE_URL (the API function behind API Gateway's own domain)
    monkeypatch.setattr(deps.settings, "public_base_url", "")
    host = {"Host": "abc123.execute-api.eu-west-1.amazonaws.com"}
    genuine_headers, body = twilio.callback(
        f"https://{host['Host']}/providers/twilio/events?execution_id={eid}", sid, "ringing"
    )
    elsewhere_headers, _ = twilio.callback(
        f"https://evil.example/providers/twilio/events?execution_id={eid}", sid, "ringing"
    )
    # Then a signature for another host is refused and one for the host reached is accepted
    assert post_callback(client, "twilio", eid, {**elsewhere_headers, **host}, body) == 403
    assert post_callback(client, "twilio", eid, {**genuine_headers, **host}, body) == 204
