"""The execution object is Bolna's: every documented key, the same shapes, null (never missing) when unknown.

BOLNA_EXAMPLE is the example answer of Bolna's `GET /executions/{execution_id}` as its API reference
documents it (docs.bolna.ai/api-reference/executions/get_execution, also the agent executions listing),
plus `error_message` (in `GET /agent/{agent_id}/execution/{execution_id}`), `usage_breakdown` (the
call-status payload, bolna.ai/docs/list-phone-call-status) and the richer telephony fields its execution
payload reference names (`ring_duration`, `post_dial_delay`).
"""

from __future__ import annotations

from typing import Any

from chalicelib.api import bodies
from chalicelib.domain.batches import public_execution as shown_record
from chalicelib.domain.records import Execution

TELEPHONY = {
    "duration": 42,
    "to_number": "+10123456789",
    "from_number": "+19876543007",
    "recording_url": "https://bolna-call-recordings.s3.us-east-1.amazonaws.com/AC1/RE1",
    "hosted_telephony": True,
    "provider_call_id": "CA42fb13614bfcfeccd94cf33befe14s2f",
    "call_type": "outbound",
    "provider": "twilio",
    "hangup_by": "Caller",
    "hangup_reason": "Normal Hangup",
    "hangup_provider_code": 4000,
}
BOLNA_EXAMPLE: dict[str, Any] = {
    "id": "4c06b4d1-4096-4561-919a-4f94539c8d4a",
    "agent_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "batch_id": "baab7cdc833145bf8dd260ff1f0a3f21",
    "conversation_time": 123,
    "total_cost": 123,
    "status": "completed",
    "error_message": None,
    "answered_by_voice_mail": True,
    "transcript": "<string>",
    "created_at": "2024-01-23T01:14:37Z",
    "updated_at": "2024-01-29T18:31:22Z",
    "usage_breakdown": None,
    "cost_breakdown": {"llm": 4.2, "network": 1.2, "platform": 2, "synthesizer": 6.8, "transcriber": 0.7},
    "telephony_data": {**TELEPHONY, "ring_duration": 6.0, "post_dial_delay": 1.5},
    "transfer_call_data": {
        "provider_call_id": "CA42fb13614bfcfeccd94cf33befe14s2f",
        "status": "completed",
        "duration": 42,
        "cost": 123,
        "to_number": "+10123456789",
        "from_number": "+19876543007",
        "recording_url": "https://bolna-call-recordings.s3.us-east-1.amazonaws.com/AC1/RE1",
        "hangup_by": "Caller",
        "hangup_reason": "Normal Hangup",
        "hangup_provider_code": 4000,
    },
    "batch_run_details": {
        "status": "completed",
        "created_at": "2024-01-23T01:14:37Z",
        "updated_at": "2024-01-29T18:31:22Z",
        "retried": 0,
    },
    "extracted_data": {
        "user_interested": True,
        "callback_user": False,
        "address": "42 world lane",
        "salary_expected": "42 bitcoins",
    },
    "context_details": {},
}


def public_execution(stored: dict[str, Any]) -> dict[str, Any]:
    """The API's object for what the store holds (the record, from its item)."""
    return dict(shown_record(Execution.model_validate({"tenant_id": "t", "agent_id": "a", **stored})))


NESTED = ("telephony_data", "transfer_call_data", "batch_run_details")


def keys(shape: dict[str, Any]) -> set[str]:
    """Every key, nested objects' keys as `parent.key` (the documented objects only, not free-form data)."""
    found = set(shape)
    for name in NESTED:
        if isinstance(shape.get(name), dict):
            found |= {f"{name}.{key}" for key in shape[name]}
    return found


def stored_like_bolna() -> dict[str, Any]:
    """What our store holds for a call that Bolna's example describes (as an HTTP voice agent reports it)."""
    telephony = BOLNA_EXAMPLE["telephony_data"]
    return {
        "execution_id": BOLNA_EXAMPLE["id"],
        "agent_id": BOLNA_EXAMPLE["agent_id"],
        "batch_id": BOLNA_EXAMPLE["batch_id"],
        "status": "completed",
        "conversation_duration": 123,
        "total_cost": 123,
        "answered_by_voice_mail": True,
        "transcript": "<string>",
        "created_at": BOLNA_EXAMPLE["created_at"],
        "updated_at": BOLNA_EXAMPLE["updated_at"],
        "cost_breakdown": BOLNA_EXAMPLE["cost_breakdown"],
        "transfer_call_data": BOLNA_EXAMPLE["transfer_call_data"],
        "extracted_data": BOLNA_EXAMPLE["extracted_data"],
        "user_number": telephony["to_number"],
        "from_number": telephony["from_number"],
        **{k: telephony[k] for k in ("recording_url", "provider_call_id", "provider", "hangup_by", "hangup_reason")},
        **{k: telephony[k] for k in ("hangup_provider_code", "ring_duration", "post_dial_delay")},
        "telephony_duration": telephony["duration"],
        "retry_count": 0,
    }


def test_every_key_of_bolnas_execution_object_is_in_ours() -> None:
    # Given an execution that has only just been queued (nothing known yet)
    queued = public_execution({"execution_id": "e", "batch_id": "b", "status": "queued"})
    # Then it still has every key Bolna documents, nested ones included
    assert keys(BOLNA_EXAMPLE) - {"transfer_call_data." + k for k in BOLNA_EXAMPLE["transfer_call_data"]} <= keys(
        queued
    )
    # And what is unknown is null, not missing: no cost yet, no extraction, no transfer
    assert queued["cost_breakdown"] is None and queued["extracted_data"] is None
    assert queued["transfer_call_data"] is None and queued["summary"] is None
    assert queued["conversation_time"] is None and queued["telephony_data"]["ring_duration"] is None


def test_bolnas_example_round_trips_through_our_execution_object() -> None:
    # Given what we store for the call of Bolna's documented example
    shown = public_execution(stored_like_bolna())
    # Then every key of Bolna's example is there, nested ones included, with the same value
    assert keys(BOLNA_EXAMPLE) <= keys(shown)
    ours_differ = {"context_details", "telephony_data"}  # ours add recipient_data; we never host telephony
    for key in set(BOLNA_EXAMPLE) - ours_differ:
        assert shown[key] == BOLNA_EXAMPLE[key], key
    assert shown["telephony_data"] == {**BOLNA_EXAMPLE["telephony_data"], "hosted_telephony": False}
    # And it is the documented model (the OpenAPI document's Execution)
    bodies.Execution.model_validate(shown)


def test_without_a_reported_breakdown_the_whole_cost_is_telephony() -> None:
    # Given a simulator call that cost 0.12 and reported no breakdown
    shown = public_execution({"execution_id": "e", "batch_id": "b", "status": "completed", "total_cost": 0.12})
    # Then the documented split puts it all under `network`
    assert shown["cost_breakdown"] == {
        "llm": 0.0,
        "network": 0.12,
        "platform": 0.0,
        "synthesizer": 0.0,
        "transcriber": 0.0,
    }


def test_ring_duration_and_post_dial_delay_are_measured_when_not_reported() -> None:
    # Given a call claimed at :00, ringing at :02 and answered at :09
    execution = {
        "execution_id": "e",
        "batch_id": "b",
        "status": "in-progress",
        "claimed_at": "2026-11-30T10:00:00Z",
        "ringing_at": "2026-11-30T10:00:02Z",
        "answered_at": "2026-11-30T10:00:09Z",
    }
    telephony = public_execution(execution)["telephony_data"]
    # Then it rang 7 s, 2 s after it was placed
    assert (telephony["ring_duration"], telephony["post_dial_delay"]) == (7.0, 2.0)
