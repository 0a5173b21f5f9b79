"""Faults a test injects on purpose: a handler that dies once at a chosen point, a transaction that conflicts once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.retries.standard import ExponentialBackoff

from chalicelib import aws


def die_once(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[bool]:
    """`module.name` raises once (the Lambda died there), then works as before: SQS delivers the message again.

    Returns the list that receives True when it died."""
    real = getattr(module, name)
    died: list[bool] = []

    def dies_once(*args: Any, **kwargs: Any) -> Any:
        if not died:
            died.append(True)
            raise RuntimeError(f"died in {name} (injected)")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, dies_once)
    return died


class _Refused:
    """What botocore needs of an HTTP response to raise the modeled error from a short-circuited call."""

    def __init__(self) -> None:
        self.status_code = 400
        self.headers: dict[str, str] = {}
        self.content = b""


def conflict_once(request: pytest.FixtureRequest, times: int = 1) -> list[str]:
    """The next DynamoDB transaction (the next `times`) is cancelled with `TransactionConflict` on each of its items,
    as DynamoDB does when another transaction holds one of them (moto never does); later ones are sent as usual,
    and after the test none is watched (its hook is on the process-wide client: unregistered when the test ends).

    Returns the list that receives each transaction's fate from now on: "conflict" or "sent"."""
    fates: list[str] = []

    def before_call(params: dict[str, Any], **_: Any) -> Any:  # a (response, parsed) pair short-circuits the call
        if fates.count("conflict") >= times:
            fates.append("sent")
            return None
        fates.append("conflict")
        items = json.loads(params.get("body") or "{}").get("TransactItems", [])
        reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"} for _ in items]
        return _Refused(), {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled (injected)"},
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    events, event = aws.dynamodb().meta.events, "before-call.dynamodb.TransactWriteItems"
    events.register(event, before_call)
    request.addfinalizer(lambda: events.unregister(event, before_call))
    return fates


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def throttle_dynamodb(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every DynamoDB request is refused for rate on the wire (as DynamoDB answers), so botocore's own retries run
    first, without their real-time backoff; unhooked when the test ends. Returns the operations refused, in order."""
    refused: list[str] = []

    def before_send(request: Any, **_: Any) -> Any:  # a response short-circuits the send, inside the retry loop
        refused.append(request.headers["X-Amz-Target"].decode().rsplit(".", 1)[-1])
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"})
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, 400, headers, _Raw(body.encode()))

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    events = aws.dynamodb().meta.events
    events.register("before-send.dynamodb", before_send)
    request.addfinalizer(lambda: events.unregister("before-send.dynamodb", before_send))
    return refused
