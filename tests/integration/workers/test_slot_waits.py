"""A call waiting for a live-call slot waits as one chain of messages, however often its message is delivered.

Found by the chaos test (issue 18, `make chaos FIRST=42 SEEDS=1`): each copy of a waiting dial message (a
duplicate delivery, a redelivery after a crash that followed the send) handed itself back for ever, so the
copies multiplied while a silent call held the agent's only slot.
"""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.domain.messages import DialMessage
from chalicelib.resources import DIAL_QUEUE
from chalicelib.services.container import Dependencies
from chalicelib.services.dialing import place_one_call
from tests.support.providers import executions, start_batch, use_provider
from tests.support.pump import Pump


def _take_waiting(deps: Dependencies, pump: Pump) -> list[DialMessage]:
    """Every dial message due within a few seconds, taken off the queue (as if a dialer received them)."""
    pump.advance(3)
    url = deps.queues.url(DIAL_QUEUE)
    taken: list[DialMessage] = []
    while received := aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in received:
            taken.append(DialMessage.model_validate_json(message["Body"]))
            aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return taken


def _one_waiting(client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump) -> DialMessage:
    """Two contacts on an agent with one slot: the first call is placed and never reports (it holds the slot),
    the second's dial message waits for the slot; that waiting message, taken off the queue."""
    use_provider(client, tenant, "simulator", max_concurrent_calls=1)
    batch_id = start_batch(client, tenant, 2)
    while pump.step("dispatcher"):
        pass
    while pump.step("dialer"):
        pass
    assert sorted(e.status for e in executions(deps, batch_id)) == ["initiated", "queued"]
    [waiting] = _take_waiting(deps, pump)
    return waiting


def test_a_waiting_dial_message_delivered_three_times_leaves_one_waiting_message(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a call waiting for its agent's only slot
    waiting = _one_waiting(client, tenant, deps, pump)
    # When its waiting message is delivered three times (duplicate deliveries)
    for _ in range(3):
        place_one_call(deps, waiting)
    # Then one message waits on: the copies died instead of handing themselves back
    [successor] = _take_waiting(deps, pump)
    assert successor.waits == waiting.waits + 1
    # And it is still the live one: it waits again, once
    place_one_call(deps, successor)
    assert len(_take_waiting(deps, pump)) == 1


def test_a_crash_after_the_waiting_message_was_sent_leaves_one_wait_chain(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a call waiting for its agent's only slot, whose dialer dies right after handing its message back
    waiting = _one_waiting(client, tenant, deps, pump)
    real = deps.queues.send

    def send_then_crash(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(deps.queues, "send", send_then_crash)
    with pytest.raises(RuntimeError):
        place_one_call(deps, waiting)
    monkeypatch.setattr(deps.queues, "send", real)
    # When SQS hands the message back and it waits again, then both messages now waiting are delivered
    place_one_call(deps, waiting)
    for message in _take_waiting(deps, pump):
        place_one_call(deps, message)
    # Then one message waits on, and after another round still one
    after = _take_waiting(deps, pump)
    assert len(after) == 1
    place_one_call(deps, after[0])
    assert len(_take_waiting(deps, pump)) == 1


def test_a_waiting_message_is_checked_as_the_live_copy_by_its_claim_with_no_read_of_the_execution(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given a call waiting for its agent's only slot, and its message's successor (the live copy now)
    place_one_call(deps, _one_waiting(client, tenant, deps, pump))
    [live] = _take_waiting(deps, pump)
    requests: list[str] = []

    def note(params: dict[str, Any], event_name: str, **_: Any) -> None:
        requests.append(f"{event_name.rsplit('.', 1)[-1]} {params.get('TableName', '').rsplit('-', 1)[-1]}")

    aws.dynamodb().meta.events.register("provide-client-params.dynamodb", note)
    try:
        # When it is delivered and finds the slot still taken
        place_one_call(deps, live)
    finally:
        aws.dynamodb().meta.events.unregister("provide-client-params.dynamodb", note)
    # Then it waits again, once, having never read the execution: its claim's condition said it was the live
    # copy (the refused claim, then the hand-off of the wait to its successor)
    assert len(_take_waiting(deps, pump)) == 1
    assert "GetItem executions" not in requests
    assert [r for r in requests if r.endswith("executions")] == ["UpdateItem executions"]
