"""Signed webhook delivery to a real HTTP receiver: retries on the schedule, DLQ, 410, 4xx, redirects, rotation."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from chalice.test import Client

from chalicelib import aws, clock
from chalicelib.domain.batches import public_execution
from chalicelib.domain.messages import DeadWebhook
from chalicelib.domain.webhooks import batch_event_id, call_event_id, message_id
from chalicelib.resources import WEBHOOK_QUEUE, dlq_name, queue_name
from chalicelib.services.container import Dependencies
from chalicelib.services.webhooks import current_secret, emit_batch_event, emit_call_event
from tests.support.pump import Pump
from tests.support.webhooks import (
    STALL,
    Received,
    Receiver,
    Reply,
    create_batch,
    deliver_all,
    execution,
    log,
)

SCHEDULE = (5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200, 43200)
# Per event, the receiver's answers in order: half of all requests fail, some by stalling past the timeout.
SCRIPTS = [[200], [500, 200], [STALL, 200], [500, STALL, 500, 200]]


def scripted(scripts: dict[str, list[int]]) -> Any:
    def reply(request: Received) -> Reply:
        answers = scripts[request.webhook_id]
        return Reply(answers[min(request.nth, len(answers)) - 1])

    return reply


def dlq_bodies(deps: Dependencies) -> list[dict[str, Any]]:
    url = aws.sqs().get_queue_url(QueueName=dlq_name(deps.settings, WEBHOOK_QUEUE))["QueueUrl"]
    found = aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


def assert_schedule_followed(rows: list[dict[str, Any]]) -> None:
    """Each retry happens no earlier than the time its predecessor logged, and that time is the schedule's delay.

    Exact, on a frozen clock (`Pump.freeze`): an attempt's POST and the machine's load take no time on it, and
    deliver_all moves it to half a second past each time an event asked for."""
    for earlier, later in itertools.pairwise(rows):
        delay = SCHEDULE[earlier["attempt"] - 1]
        started = clock.parse_iso(earlier["attempted_at"])
        due = clock.parse_iso(earlier["next_try_at"])
        assert due - started == timedelta(seconds=delay), earlier
        assert due <= clock.parse_iso(later["attempted_at"]) <= due + timedelta(seconds=0.5), (earlier, later)
        assert later["attempt"] == earlier["attempt"] + 1


def test_flaky_receiver_gets_every_event_signed_on_schedule(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given a batch whose call and status webhooks go to a receiver that fails half of its requests, on a clock
    # that moves only when the test moves it (the waits measured are the service's alone)
    pump.freeze()
    key = tenant[0]
    batch = create_batch(client, tenant, hooks, webhook_url=receiver.url + "/calls", status_webhook=receiver.url + "/b")
    receiver.secrets = [str(current_secret(hooks, batch.tenant_id).webhook_secret)]
    executions = [execution(batch, i) for i in range(6)]
    ids = [call_event_id(e.execution_id, "call.ended") for e in executions]
    ids += [batch_event_id(batch.batch_id, s) for s in ("in_progress", "completed")]
    receiver.script = scripted({message_id(e): SCRIPTS[i % len(SCRIPTS)] for i, e in enumerate(ids)})
    # When six calls end and the batch reports two steps
    for e in executions:
        emit_call_event(hooks, e, batch, "call.ended")
    emit_batch_event(hooks, batch, "in_progress")
    emit_batch_event(hooks, batch, "completed", {"completed": 6})
    deliver_all(pump, hooks, batch.batch_id, ids)
    # Then every event was received exactly as often as the receiver made it try, and never more
    got = receiver.by_id()
    assert {i: len(got[message_id(e)]) for i, e in enumerate(ids)} == {
        i: len(SCRIPTS[i % len(SCRIPTS)]) for i in range(len(ids))
    }
    # And every request's signature verifies with the tenant's secret (standardwebhooks, as a receiver would)
    assert all(r.verified_by == [0] for r in receiver.received)
    # And the payloads are the API's execution objects and the batch events
    by_path = {r.webhook_id: r for r in receiver.received}
    for e in executions:
        request = by_path[message_id(call_event_id(e.execution_id, "call.ended"))]
        assert (request.path, request.payload) == ("/calls", public_execution(e))
        assert request.headers["x-batchcall-event"] == "call.ended"
    final = by_path[message_id(ids[-1])]
    assert final.path == "/b"
    assert final.payload["batch_id"] == batch.batch_id
    assert (final.payload["status"], final.payload["completed"]) == ("completed", 6)
    assert final.headers["x-batchcall-event"] == "batch.completed"
    # And each retry followed the schedule, as the delivery log shows
    rows = log(client, key, batch.batch_id)
    assert len(rows) == len(receiver.received) == 18
    assert Counter(r["outcome"] for r in rows) == {"retrying": 10, "delivered": 8}  # more than half failed
    for event in ids:
        mine = sorted((r for r in rows if r["event_id"] == event), key=lambda r: r["attempt"])
        assert mine[-1]["outcome"] == "delivered"
        assert all(r["outcome"] == "retrying" for r in mine[:-1])
        assert_schedule_followed(mine)
    stalled = [r for r in rows if r["error"] and "timed out" in r["error"]]
    assert len(stalled) == 4 and all(r["status_code"] is None and 900 <= r["latency_ms"] < 4000 for r in stalled)
    assert {r["status_code"] for r in rows} == {200, 500, None}
    assert {r["url_host"] for r in rows} == {receiver.url.removeprefix("http://")}


def test_every_delivery_twice_still_posts_each_attempt_once(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given the queue delivers every webhook message twice, and the caller announces each event twice
    batch = create_batch(client, tenant, hooks, webhook_url=receiver.url)
    pump.duplicate = lambda name, body: name == "webhook_sender"
    executions = [execution(batch, i) for i in range(4)]
    ids = [call_event_id(e.execution_id, "call.retry_scheduled") for e in executions]
    receiver.script = scripted({message_id(e): SCRIPTS[i] for i, e in enumerate(ids)})
    # When the events are emitted (twice) and delivered
    for e in executions + executions:
        emit_call_event(hooks, e, batch, "call.retry_scheduled")
    deliver_all(pump, hooks, batch.batch_id, ids)
    # Then each attempt reached the receiver once: duplicates are dropped by the claim, not re-sent
    assert {e: len(v) for e, v in receiver.by_id().items()} == {
        message_id(e): len(SCRIPTS[i]) for i, e in enumerate(ids)
    }


def test_a_receiver_that_always_fails_ends_in_the_dead_letter_queue_after_a_day(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given a receiver that always answers 500, on a clock that moves only when the test moves it
    pump.freeze()
    batch = create_batch(client, tenant, hooks, webhook_url=receiver.url)
    receiver.script = lambda request: Reply(500)
    e = execution(batch, 1, "no-answer")
    event = call_event_id(e.execution_id, "call.ended")
    # When the event is delivered, following every retry (SQS delays, then Scheduler schedules)
    emit_call_event(hooks, e, batch, "call.ended")
    deliver_all(pump, hooks, batch.batch_id, [event])
    # Then it was tried 11 times on the schedule, over more than 24 hours
    rows = sorted(log(client, tenant[0], batch.batch_id), key=lambda r: r["attempt"])
    assert [r["attempt"] for r in rows] == list(range(1, 12))
    assert [r["outcome"] for r in rows] == ["retrying"] * 10 + ["dead"]
    assert_schedule_followed(rows)
    span = clock.parse_iso(rows[-1]["attempted_at"]) - clock.parse_iso(rows[0]["attempted_at"])
    assert span >= timedelta(hours=24)
    assert len(receiver.received) == 11
    # And the message is in the webhook DLQ, with what a person needs to understand it
    (dead,) = dlq_bodies(hooks)
    assert (dead["event_id"], dead["attempts_made"], dead["last_status_code"]) == (event, 11, 500)
    assert dead["payload"] == public_execution(e)
    assert hooks.deliveries.state(batch.batch_id, event)["state"] == "dead"  # type: ignore[index]
    # And nothing is left to send
    assert (
        not aws.sqs()
        .receive_message(
            QueueUrl=aws.sqs().get_queue_url(QueueName=queue_name(hooks.settings, WEBHOOK_QUEUE))["QueueUrl"]
        )
        .get("Messages")
    )

    # When an operator redrives it to the queue once the receiver is fixed, an hour later
    pump.advance(3600)
    receiver.script = lambda request: Reply(204)
    hooks.queues.send(WEBHOOK_QUEUE, DeadWebhook.model_validate(dead))
    pump.run()
    # Then it is delivered, as a replay starting from attempt 1, and signed as before
    assert receiver.received[-1].nth == 12
    assert hooks.deliveries.state(batch.batch_id, event)["state"] == "delivered"  # type: ignore[index]
    assert log(client, tenant[0], batch.batch_id)[-1]["outcome"] == "delivered"


def test_429_waits_as_long_as_retry_after_asks(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given a receiver that is rate limiting for 90 s, then by an HTTP date 10 minutes ahead,
    # on a clock that moves only when the test moves it (the waits measured are the service's alone)
    pump.freeze()
    batch = create_batch(client, tenant, hooks, status_webhook=receiver.url)
    replies = iter(
        [
            Reply(429, {"Retry-After": "90"}),
            Reply(429, {"Retry-After": "PLACEHOLDER"}),
            Reply(200),
        ]
    )

    def script(request: Received) -> Reply:
        reply = next(replies)
        if reply.headers.get("Retry-After") == "PLACEHOLDER":
            when = clock.now() + timedelta(minutes=10)
            reply.headers["Retry-After"] = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
        return reply

    receiver.script = script
    # When a batch event is delivered
    emit_batch_event(hooks, batch, "dispatching")
    deliver_all(pump, hooks, batch.batch_id, [batch_event_id(batch.batch_id, "dispatching")])
    # Then the retries waited 90 s and 10 minutes (not 5 s and 30 s), and it was delivered
    rows = sorted(log(client, tenant[0], batch.batch_id), key=lambda r: r["attempt"])
    waits = [
        (clock.parse_iso(b["attempted_at"]) - clock.parse_iso(a["attempted_at"])).total_seconds()
        for a, b in itertools.pairwise(rows)
    ]
    assert 90 <= waits[0] <= 91 and 599 <= waits[1] <= 601, waits
    assert [r["status_code"] for r in rows] == [429, 429, 200]


def test_410_disables_the_endpoint_for_later_events(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given a call webhook that answers 410 Gone, and a status webhook on another path that works
    batch = create_batch(client, tenant, hooks, webhook_url=receiver.url + "/gone", status_webhook=receiver.url + "/ok")
    receiver.script = lambda request: Reply(410 if request.path == "/gone" else 200)
    first, second = execution(batch, 1), execution(batch, 2)
    # When two calls end and the batch reports a step
    emit_call_event(hooks, first, batch, "call.ended")
    pump.run()
    emit_call_event(hooks, second, batch, "call.ended")
    emit_batch_event(hooks, batch, "in_progress")
    pump.advance(3600)
    pump.run()
    # Then the gone endpoint was called once, never retried, and the second event was skipped, not sent
    assert [r.path for r in receiver.received].count("/gone") == 1
    rows = {r["event_id"]: r for r in log(client, tenant[0], batch.batch_id)}
    assert rows[call_event_id(first.execution_id, "call.ended")]["outcome"] == "disabled"
    assert rows[call_event_id(first.execution_id, "call.ended")]["status_code"] == 410
    skipped = rows[call_event_id(second.execution_id, "call.ended")]
    assert (skipped["outcome"], skipped["status_code"]) == ("skipped", None)
    # And the other endpoint still receives its events
    assert rows[batch_event_id(batch.batch_id, "in_progress")]["outcome"] == "delivered"
    assert [r.path for r in receiver.received].count("/ok") == 1


@pytest.mark.parametrize("status", [400, 401, 404, 413])
def test_other_4xx_is_not_retried(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver, status: int
) -> None:
    batch = create_batch(client, tenant, hooks, webhook_url=receiver.url)
    receiver.script = lambda request: Reply(status)
    emit_call_event(hooks, execution(batch, 1), batch, "call.ended")
    pump.run()
    pump.advance(2 * 3600)
    pump.run()
    assert len(receiver.received) == 1
    (row,) = log(client, tenant[0], batch.batch_id)
    assert (row["outcome"], row["status_code"], row["next_try_at"]) == ("failed", status, None)
    assert not dlq_bodies(hooks)


def test_a_redirect_is_never_followed(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given a receiver that redirects to another path on the same server
    batch = create_batch(client, tenant, hooks, webhook_url=receiver.url + "/hook")
    receiver.script = lambda request: Reply(302, {"Location": receiver.url + "/elsewhere"})
    # When an event is delivered
    emit_call_event(hooks, execution(batch, 1), batch, "call.ended")
    pump.run()
    pump.advance(3600)
    pump.run()
    # Then only the webhook URL was requested: the redirect was not followed, nor retried
    assert [r.path for r in receiver.received] == ["/hook"]
    (row,) = log(client, tenant[0], batch.batch_id)
    assert (row["outcome"], row["status_code"]) == ("failed", 302)
    assert row["error"] == f"redirect to {receiver.url.removeprefix('http://')} not followed"


def test_rotation_signs_with_both_secrets_until_the_overlap_ends(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    key = tenant[0]
    auth = {"Authorization": f"Bearer {key}"}
    batch = create_batch(client, tenant, hooks, webhook_url=receiver.url)
    old = json.loads(client.http.get("/webhooks/secret", headers=auth).body)["secret"]
    # When the secret is rotated and a call ends
    rotated = json.loads(client.http.post("/webhooks/secret/rotate", headers=auth).body)
    new = rotated["secret"]
    receiver.secrets = [new, old]
    emit_call_event(hooks, execution(batch, 1), batch, "call.ended")
    pump.run()
    # Then the request carries two signatures: the first verifies with the new secret only, the second with the old
    (request,) = receiver.received
    assert request.parts_verified_by == [[0], [1]]
    assert request.verified_by == [0, 1]  # a receiver holding either secret accepts it
    # And a day later only the new secret signs
    pump.advance(24 * 3600 + 60)
    emit_call_event(hooks, execution(batch, 2), batch, "call.ended")
    pump.run()
    assert receiver.received[-1].parts_verified_by == [[0]]


def test_a_worker_that_dies_after_posting_posts_again(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver, monkeypatch: Any
) -> None:
    # Given the worker dies once, after the receiver got the POST but before the attempt was recorded
    batch = create_batch(client, tenant, hooks, webhook_url=receiver.url)
    settle = hooks.deliveries.settle
    deaths = [RuntimeError("worker died")]

    def dying_settle(*args: Any, **kwargs: Any) -> bool:
        if deaths:
            raise deaths.pop()
        return settle(*args, **kwargs)

    monkeypatch.setattr(hooks.deliveries, "settle", dying_settle)
    e = execution(batch, 1)
    event = call_event_id(e.execution_id, "call.ended")
    # When the event is delivered
    emit_call_event(hooks, e, batch, "call.ended")
    with pytest.raises(BatchProcessingError):
        pump.run()
    assert len(receiver.received) == 1
    assert hooks.deliveries.state(batch.batch_id, event)["state"] == "sending"  # type: ignore[index]
    # Then SQS hands the message back after its visibility timeout, and it is posted again: nothing is lost
    pump.advance(WEBHOOK_QUEUE.visibility_timeout + 1)
    pump.run()
    assert hooks.deliveries.state(batch.batch_id, event)["state"] == "delivered"  # type: ignore[index]
    assert [r.nth for r in receiver.received] == [1, 2]  # the same webhook-id both times: the receiver can dedupe


def test_a_message_for_an_attempt_in_flight_waits_for_it_instead_of_being_dropped(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver
) -> None:
    # Given another worker holds attempt 1 of the event (and may die holding it)
    batch = create_batch(client, tenant, hooks, webhook_url=receiver.url)
    e = execution(batch, 1)
    event = call_event_id(e.execution_id, "call.ended")
    now = clock.now().timestamp()
    lease = 2 * hooks.settings.webhook_timeout_seconds + 30
    assert hooks.deliveries.claim(batch.batch_id, event, 1, now=now, lease_until=now + lease) == (True, None)
    # When a copy of the message arrives meanwhile
    emit_call_event(hooks, e, batch, "call.ended")
    pump.run()
    # Then it does not post, and is not dropped either: when the holder's claim lapses, it posts
    assert receiver.received == []
    pump.run(until=lambda: len(receiver.received) == 1, advance_seconds=5)
    pump.run()
    assert hooks.deliveries.state(batch.batch_id, event)["state"] == "delivered"  # type: ignore[index]
