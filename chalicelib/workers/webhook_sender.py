"""Webhook-queue consumer: each message is one attempt of one event (`services/webhook_delivery.py`)."""

from __future__ import annotations

from ..domain.messages import WebhookMessage
from ..services.container import Dependencies
from ..services.webhook_delivery import deliver_attempt


def handle_webhook(deps: Dependencies, message: WebhookMessage) -> None:
    deliver_attempt(deps, message)
