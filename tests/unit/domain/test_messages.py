"""Queue messages keep their wire shape: messages in flight across a deploy parse, and carry the keys they did."""

from __future__ import annotations

import json

from chalicelib.domain.batch_status import BatchStatus
from chalicelib.domain.call_status import CallStatus
from chalicelib.domain.messages import (
    ControlMessage,
    DeadWebhook,
    DialMessage,
    ExportMessage,
    IngestNotification,
    ProviderEvent,
    WebhookMessage,
)
from chalicelib.domain.records import Batch, Execution

BATCH = Batch(batch_id="b1", tenant_id="t", agent_id="a", status=BatchStatus.RUNNING, max_concurrent_calls=3)
EXECUTION = Execution(
    execution_id="e1",
    batch_id="b1",
    tenant_id="t1",
    agent_id="a1",
    status=CallStatus.QUEUED,
    user_number="+12025550123",
    from_number=None,
    contact_index=7,
    attempt=2,
    recipient_data={"name": "Ada"},
)


def wire(message: ControlMessage | DialMessage | ProviderEvent | WebhookMessage | ExportMessage) -> dict[str, object]:
    return dict(json.loads(message.wire()))


def test_control_messages_carry_the_keys_of_their_kind() -> None:
    assert wire(ControlMessage.start("b1", "tok", "2026-01-01T00:00:00Z")) == {
        "kind": "start",
        "batch_id": "b1",
        "token": "tok",
        "start_at": "2026-01-01T00:00:00Z",
    }
    assert wire(ControlMessage.dispatch("b1", 10)) == {"kind": "dispatch", "batch_id": "b1", "pos": 10, "waits": 0}
    assert wire(ControlMessage.cancel("b1", 5)) == {"kind": "cancel", "batch_id": "b1", "pos": 5, "after": None}


def test_a_dial_message_is_built_from_its_execution_and_handed_back_whole() -> None:
    message = DialMessage.for_execution(EXECUTION, BATCH, not_before="2026-01-01T00:00:00Z")
    assert wire(message) == {
        "execution_id": "e1",
        "batch_id": "b1",
        "tenant_id": "t1",
        "agent_id": "a1",
        "to": "+12025550123",
        "from_number": None,
        "contact_index": 7,
        "attempt": 2,
        "variables": {"name": "Ada"},
        "bypass_window": False,
        "batch_cap": 3,
        "not_before": "2026-01-01T00:00:00Z",
    }
    # A message sent back to its queue carries every field, the changed ones changed
    again = DialMessage.model_validate_json(message.wire()).again(waits=4)
    assert wire(again) == {**DialMessage.model_validate_json(message.wire()).model_dump(), "waits": 4}


def test_provider_events_drop_empty_details() -> None:
    event = ProviderEvent.of("e1", "simulator", "c1", "completed", total_cost=0.1, transcript=None)
    assert wire(event) == {
        "execution_id": "e1",
        "provider": "simulator",
        "provider_call_id": "c1",
        "status": "completed",
        "details": {"total_cost": 0.1},
    }


def test_a_dead_lettered_webhook_replays_from_its_first_attempt_when_redriven() -> None:
    message = WebhookMessage.new(
        event_id="ev", event="call.ended", tenant_id="t1", batch_id="b1", url="https://x", payload={"a": 1}, now="n"
    ).retry(11, "later")
    dead = DeadWebhook.of(message, "now", 500, "boom")
    body = wire(dead)
    assert (body["attempt"], body["replay"], body["not_before"]) == (1, True, None)
    assert (body["attempts_made"], body["last_status_code"], body["last_error"]) == (11, 500, "boom")
    redriven = WebhookMessage.model_validate_json(dead.wire())
    assert (redriven.attempt, redriven.replay, redriven.payload) == (1, True, {"a": 1})


def test_export_and_ingest_messages() -> None:
    assert wire(ExportMessage.of("b1", "tok")) == {"batch_id": "b1", "token": "tok"}
    assert IngestNotification.model_validate_json('{"Event": "s3:TestEvent"}').created() == []
    notification = {
        "Records": [
            {"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "inbox/a/x+y.csv", "eTag": "e"}}},
            {"eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "inbox/a/z.csv"}}},
        ]
    }
    assert IngestNotification.model_validate(notification).created() == [("inbox/a/x+y.csv", "e")]
