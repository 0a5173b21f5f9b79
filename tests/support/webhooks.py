"""Webhook tests' helpers: a real receiver on 127.0.0.1 that verifies signatures, and drivers of retries.

The receiver and the `receiver`/`hooks` fixtures serve the webhook tests and any other test that needs a
webhook URL (ingest); conftests import the fixtures from here.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from chalice.test import Client
from standardwebhooks import Webhook, WebhookVerificationError

from chalicelib import clock
from chalicelib.domain.records import Batch, Execution
from chalicelib.services.container import Dependencies
from tests.support.api import post_csv
from tests.support.http_server import LocalServer, Response
from tests.support.pump import Pump

STALL = -1  # a reply status that means: answer nothing until the test ends (past the sender's timeout)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str
    nth: int  # 1 for the first request with this webhook-id
    at: datetime
    verified_by: list[int]  # indexes into Receiver.secrets that verify the request as sent
    parts_verified_by: list[list[int]]  # for each `v1,...` signature alone: the secrets that verify it

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class Receiver(LocalServer):
    """Answers per `script(request) -> Reply`; verifies every signature the moment it arrives (timestamps are fresh)."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[Received] = []
        self.secrets: list[str] = []
        self.script: Callable[[Received], Reply] = lambda request: Reply(200)
        self._counts: Counter[str] = Counter()
        self._release = threading.Event()
        self.start()

    def by_id(self) -> dict[str, list[Received]]:
        grouped: dict[str, list[Received]] = {}
        for request in self.received:
            grouped.setdefault(request.webhook_id, []).append(request)
        return grouped

    def reset(self) -> None:
        """Forget what arrived: a chaos seed's event ids repeat when it runs again, and the nth delivery of an id
        is what the receiver's script answers (a count kept from an earlier run changes the answers)."""
        with self.lock:
            self.received.clear()
            self._counts.clear()

    def close(self) -> None:
        self._release.set()  # stalled handlers finish now
        super().close()

    def _record(self, path: str, headers: dict[str, str], body: str) -> Received:
        def verifies(secret: str, signature: str) -> bool:
            try:
                Webhook(secret).verify(body, {**headers, "webhook-signature": signature})
            except (WebhookVerificationError, ValueError):
                return False
            return True

        signature = headers.get("webhook-signature", "")
        with self.lock:
            self._counts[headers.get("webhook-id", "")] += 1
            request = Received(
                path=path,
                headers=headers,
                body=body,
                nth=self._counts[headers.get("webhook-id", "")],
                at=clock.now(),
                verified_by=[i for i, s in enumerate(self.secrets) if verifies(s, signature)],
                parts_verified_by=[
                    [i for i, s in enumerate(self.secrets) if verifies(s, part)] for part in signature.split(" ")
                ],
            )
            self.received.append(request)
        return request

    def respond(self, request: BaseHTTPRequestHandler) -> Response | None:
        length = int(request.headers.get("Content-Length", 0))
        body = request.rfile.read(length).decode()
        received = self._record(request.path, {k.lower(): v for k, v in request.headers.items()}, body)
        reply = self.script(received)
        if reply.status == STALL:
            self._release.wait(10)
            return None
        return Response(reply.status, b"", reply.headers)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def hooks(deps: Dependencies) -> Dependencies:
    """The service as the local stack runs it (127.0.0.1 allowed), with a 1 s timeout to keep stalls short."""
    deps.settings = deps.settings.model_copy(update={"webhook_allow_private": True, "webhook_timeout_seconds": 1.0})
    return deps


def create_batch(client: Client, tenant: tuple[str, str], deps: Dependencies, **fields: str) -> Batch:
    key, agent_id = tenant
    csv = b"contact_number,customer_name\n+12025550100,Asha\n+12025550101,Ben\n"
    response = post_csv(client, key, {"agent_id": agent_id, **fields}, csv)
    assert response.status_code == 201, response.body
    batch = deps.batches.find(json.loads(response.body)["batch_id"])
    assert batch is not None
    return batch


def execution(batch: Batch, index: int, status: str = "completed") -> Execution:
    """An ended execution as the store holds it."""
    now = clock.now_iso()
    fields = {
        "execution_id": f"{batch.batch_id[:20]}{index:012d}",
        "batch_id": batch.batch_id,
        "tenant_id": batch.tenant_id,
        "agent_id": batch.agent_id,
        "status": status,
        "user_number": f"+1202555{index:04d}",
        "attempt": 1,
        "conversation_duration": 12.5,
        "total_cost": 1.5,
        "recipient_data": {"customer_name": f"Name{index}"},
        "provider": "simulator",
        "created_at": now,
        "updated_at": now,
    }
    return Execution.model_validate(fields)


def deliver_all(pump: Pump, deps: Dependencies, batch_id: str, event_ids: list[str], max_rounds: int = 100) -> None:
    """Deliver now, then move the clock to each next retry as the events ask, until none is pending.

    Moving to exactly the time each event asked for (plus half a second) is what lets the tests
    assert the retry schedule: an attempt made early or late shows in the log.
    """
    for _ in range(max_rounds):
        pump.run()
        due = [
            clock.parse_iso(state["next_try_at"])
            for state in (deps.deliveries.state(batch_id, e) for e in event_ids)
            if state and state["state"] == "pending"
        ]
        if not due:
            return
        pump.advance(max(0.0, (min(due) - datetime.now(UTC)).total_seconds()) + 0.5)
    raise AssertionError("events still pending")


def log(client: Client, key: str, batch_id: str) -> list[dict[str, Any]]:
    response = client.http.get(f"/batches/{batch_id}/webhooks?limit=1000", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.body
    return list(json.loads(response.body))
