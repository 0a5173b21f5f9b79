"""Answers Chalice gives itself (a method a path does not take, an exception that escaped a view) are ours too."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from chalicelib.services import lifecycle
from tests.support.faults import throttle_dynamodb


def test_a_method_the_path_does_not_take_is_a_405_in_our_shape(client: Client, tenant: tuple[str, str]) -> None:
    key, _ = tenant
    # When GET /batches (the path takes only POST) reaches the app
    answer = client.http.get("/batches", headers={"Authorization": f"Bearer {key}"})
    # Then it is our error shape, naming the method allowed
    assert answer.status_code == 405
    assert json.loads(answer.body) == {
        "message": "Unsupported method: GET",
        "code": "method_not_allowed",
        "details": [],
    }
    assert answer.headers["Allow"] == "POST"
    assert key not in answer.body.decode()


def test_an_exception_that_escaped_a_view_is_a_500_in_our_shape_without_its_text(
    client: Client, tenant: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, _ = tenant

    def broken(*args: object) -> None:
        raise RuntimeError("internal detail with a secret")

    monkeypatch.setattr(lifecycle, "run_batch", broken)
    answer = client.http.post("/batches/b1/run", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 500
    assert json.loads(answer.body) == {"message": "internal error", "code": "internal_error", "details": []}


def test_dynamodb_throttling_past_the_sdks_retries_is_a_503_try_again_with_retry_after(
    client: Client, tenant: tuple[str, str], request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, agent_id = tenant
    # Given DynamoDB refusing every request for rate
    refused = throttle_dynamodb(request, monkeypatch)
    # When a client reads its agent
    answer = client.http.get(f"/agents/{agent_id}", headers={"Authorization": f"Bearer {key}"})
    # Then botocore sent the first read 6 times (5 retries), and the answer says to come back, in our shape, not a 500
    assert len(refused) == 6 and len(set(refused)) == 1
    assert answer.status_code == 503
    body = json.loads(answer.body)
    assert set(body) == {"message", "code", "details"} and body["code"] == "try_again"
    assert "throttled" in body["message"] and key not in answer.body.decode()
    assert answer.headers["Retry-After"] == "1"
