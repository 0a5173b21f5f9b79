"""Webhook rules with no I/O: ids, signatures (checked with standardwebhooks), outcomes, retry timing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from standardwebhooks import Webhook, WebhookVerificationError

from chalicelib.domain.records import Batch
from chalicelib.domain.webhooks import (
    MAX_RETRY_AFTER_SECONDS,
    Outcome,
    batch_counts,
    batch_event_id,
    batch_payload,
    call_event_id,
    classify,
    new_secret,
    next_delay,
    retry_after_seconds,
    signature_header,
)

SCHEDULE = (5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200, 43200)
NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


def test_event_ids_are_stable_and_distinct() -> None:
    assert call_event_id("e1", "call.ended") == call_event_id("e1", "call.ended")
    ids = {
        call_event_id("e1", "call.ended"),
        call_event_id("e1", "call.retry_scheduled"),
        call_event_id("e2", "call.ended"),
        batch_event_id("e1", "completed"),
        batch_event_id("e1", "failed"),
    }
    assert len(ids) == 5 and all(len(i) == 32 for i in ids)
    with pytest.raises(ValueError, match="unknown call event"):
        call_event_id("e1", "call.started")
    with pytest.raises(ValueError, match="unknown batch status"):
        batch_event_id("b1", "running")


def test_secrets_are_standard_webhooks_secrets() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


@time_machine.travel(NOW, tick=False)
def test_signature_verifies_with_standardwebhooks_and_only_with_its_secret() -> None:
    secret, other = new_secret(), new_secret()
    body = '{"id":"x","status":"completed","name":"Åsa"}'
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(NOW.timestamp())),
        "webhook-signature": signature_header([secret], "msg_1", NOW, body),
    }
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers)["name"] == "Åsa"
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("completed", "failed"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "msg_2"})


@time_machine.travel(NOW, tick=False)
def test_two_secrets_give_two_signatures_each_verifying_with_its_own() -> None:
    new, old = new_secret(), new_secret()
    body = "{}"
    header = signature_header([new, old], "msg_1", NOW, body)
    parts = header.split(" ")
    assert len(parts) == 2
    base = {"webhook-id": "msg_1", "webhook-timestamp": str(int(NOW.timestamp()))}
    Webhook(new).verify(body, {**base, "webhook-signature": parts[0]})
    Webhook(old).verify(body, {**base, "webhook-signature": parts[1]})
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body, {**base, "webhook-signature": parts[1]})


def test_signing_uses_the_instant_whatever_the_zone() -> None:
    secret = new_secret()
    ist = NOW.astimezone(datetime.now().astimezone().tzinfo)
    assert signature_header([secret], "m", ist, "{}") == signature_header([secret], "m", NOW, "{}")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (None, Outcome.RETRYING),
        (500, Outcome.RETRYING),
        (502, Outcome.RETRYING),
        (503, Outcome.RETRYING),
        (429, Outcome.RETRYING),
        (408, Outcome.RETRYING),
        (410, Outcome.DISABLED),
        (400, Outcome.FAILED),
        (401, Outcome.FAILED),
        (403, Outcome.FAILED),
        (404, Outcome.FAILED),
        (422, Outcome.FAILED),
        (301, Outcome.FAILED),
        (302, Outcome.FAILED),
        (307, Outcome.FAILED),
        (101, Outcome.FAILED),
    ],
)
def test_what_an_answer_means(status: int | None, outcome: Outcome) -> None:
    assert classify(status) is outcome


def test_retries_follow_the_schedule_then_stop() -> None:
    delays = [next_delay(attempt, SCHEDULE, 11) for attempt in range(1, 12)]
    assert delays == [*SCHEDULE, None]
    assert sum(SCHEDULE) >= 24 * 3600


def test_the_last_delay_repeats_and_max_attempts_cuts_short() -> None:
    assert [next_delay(a, (5, 60), 5) for a in range(1, 6)] == [5, 60, 60, 60, None]
    assert next_delay(1, SCHEDULE, 1) is None


def test_retry_after_is_honoured_when_longer_and_capped() -> None:
    assert next_delay(1, SCHEDULE, 11, retry_after=90) == 90
    assert next_delay(1, SCHEDULE, 11, retry_after=1.2) == 5  # shorter than the schedule: the schedule wins
    assert next_delay(1, SCHEDULE, 11, retry_after=10**9) == MAX_RETRY_AFTER_SECONDS
    assert next_delay(11, SCHEDULE, 11, retry_after=90) is None


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after_seconds("120", NOW) == 120
    assert retry_after_seconds(" 7 ", NOW) == 7
    later = (NOW + timedelta(minutes=10)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_seconds(later, NOW) == 600
    past = (NOW - timedelta(minutes=10)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_seconds(past, NOW) == 0
    for junk in (None, "", "soon", "-5", "1.5e3"):
        assert retry_after_seconds(junk, NOW) is None


def test_batch_payload_and_counts() -> None:
    batch = Batch.model_validate(
        {
            "batch_id": "b1",
            "tenant_id": "t",
            "agent_id": "a",
            "status": "completed",
            "total_contacts": 4,
            "valid_contacts": 3,
            "invalid_contacts": 1,
            "execution_status": {"completed": 2, "busy": 1, "queued": 0},
        }
    )
    counts = batch_counts(batch)
    assert counts["execution_status"] == {"busy": 1, "completed": 2}
    payload = batch_payload("b1", "completed", "2026-11-22T12:00:00.000Z", counts)
    assert (payload["batch_id"], payload["status"], payload["timestamp"], payload["valid_contacts"]) == (
        "b1",
        "completed",
        "2026-11-22T12:00:00.000Z",
        3,
    )
    assert batch_payload("b1", "validating", "t", {"status": "spoofed"})["status"] == "validating"
