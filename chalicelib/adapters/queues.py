"""Sending to the service's queues: URLs resolved once, batches of ten, delays capped as SQS does.

Every message is a `QueueMessage` (domain/messages.py), serialised here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from .. import aws
from ..domain.messages import QueueMessage
from ..resources import Queue, dlq_name, queue_name
from ..settings import Settings

MAX_DELAY = 900


def _delay(seconds: float) -> int:
    return max(0, min(MAX_DELAY, int(seconds)))


class Queues:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @lru_cache(maxsize=16)  # noqa: B019 - one Queues per process; the cache lives as long as it
    def url(self, queue: Queue) -> str:
        return aws.sqs().get_queue_url(QueueName=queue_name(self._settings, queue))["QueueUrl"]

    def send(self, queue: Queue, message: QueueMessage, delay_seconds: int = 0) -> None:
        aws.sqs().send_message(QueueUrl=self.url(queue), MessageBody=message.wire(), DelaySeconds=_delay(delay_seconds))

    def send_many(self, queue: Queue, messages: Sequence[tuple[QueueMessage, int]]) -> None:
        """Send (message, delay) pairs ten at a time; a partial failure raises so the caller's message is retried."""
        url = self.url(queue)
        for start in range(0, len(messages), 10):
            entries = [
                {"Id": str(i), "MessageBody": message.wire(), "DelaySeconds": _delay(delay)}
                for i, (message, delay) in enumerate(messages[start : start + 10])
            ]
            result = aws.sqs().send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
            if result.get("Failed"):
                raise RuntimeError(f"SQS refused {len(result['Failed'])} of {len(entries)} messages")

    def dead_letter(self, queue: Queue, message: QueueMessage) -> None:
        """Park a message in the queue's dead-letter queue (a failure the consumer handled, kept for a person)."""
        sqs = aws.sqs()
        url = sqs.get_queue_url(QueueName=dlq_name(self._settings, queue))["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=message.wire())
