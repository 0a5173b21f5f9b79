"""The webhook events a test's service queues, recorded instead of delivered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.domain.messages import QueueMessage
from chalicelib.resources import WEBHOOK_QUEUE
from chalicelib.services.container import Dependencies


def spy_webhooks(deps: Dependencies, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every webhook event sent from now on (its wire body), in order; other queues' messages go on as sent."""
    sent: list[dict[str, Any]] = []
    send = deps.queues.send

    def spy(queue: Any, body: QueueMessage, delay_seconds: int = 0) -> None:
        if queue == WEBHOOK_QUEUE:
            sent.append(json.loads(body.wire()))
        else:
            send(queue, body, delay_seconds)

    monkeypatch.setattr(deps.queues, "send", spy)
    return sent
