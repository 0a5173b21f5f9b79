"""Sending to the service's queues: URLs resolved once, batches of ten, delays capped as SQS does."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from .. import aws
from ..resources import Queue, queue_name
from ..settings import Settings

MAX_DELAY = 900


class Queues:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @lru_cache(maxsize=16)  # noqa: B019 - one Queues per process; the cache lives as long as it
    def url(self, queue: Queue) -> str:
        return aws.sqs().get_queue_url(QueueName=queue_name(self._settings, queue))["QueueUrl"]

    def send(self, queue: Queue, body: dict[str, Any], delay_seconds: int = 0) -> None:
        aws.sqs().send_message(
            QueueUrl=self.url(queue),
            MessageBody=json.dumps(body, separators=(",", ":")),
            DelaySeconds=max(0, min(MAX_DELAY, int(delay_seconds))),
        )

    def send_many(self, queue: Queue, bodies: list[tuple[dict[str, Any], int]]) -> None:
        """Send (body, delay) pairs ten at a time; a partial failure raises so the caller's message is retried."""
        url = self.url(queue)
        for start in range(0, len(bodies), 10):
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(body, separators=(",", ":")),
                    "DelaySeconds": max(0, min(MAX_DELAY, int(delay))),
                }
                for i, (body, delay) in enumerate(bodies[start : start + 10])
            ]
            result = aws.sqs().send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
            if result.get("Failed"):
                raise RuntimeError(f"SQS refused {len(result['Failed'])} of {len(entries)} messages")
