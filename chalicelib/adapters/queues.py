"""Sending to the service's queues, now or at a given time: URLs resolved once, batches of ten, delays capped
as SQS does; a message due later than SQS can delay goes through an EventBridge Scheduler one-time schedule
whose target is the queue (`Scheduler`).

Every message is a `QueueMessage` (domain/messages.py), serialised here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from .. import aws, clock
from ..domain.messages import QueueMessage
from ..domain.scheduling import plan_start
from ..resources import Queue, dlq_name, queue_arn, queue_name, schedule_group_name
from ..settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_scheduler.type_defs import CreateScheduleInputTypeDef

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


class Scheduler:
    """Send a queue message at a given time: an SQS delay when it is under 15 minutes away (exact to the
    second), else an EventBridge Scheduler one-time schedule (minute precision; the consumer re-delays
    whatever is early, so the time given is kept). Named: sending again under a name replaces the earlier one."""

    def __init__(self, settings: Settings, queues: Queues) -> None:
        self._settings = settings
        self._queues = queues

    def send_at(self, queue: Queue, message: QueueMessage, when: datetime, name: str, *, replaces: bool = True) -> None:
        """`replaces`: a schedule of this name may exist and must not fire too (False for names used once,
        such as a webhook's attempt: no delete request is spent on them)."""
        plan = plan_start(when, clock.now())
        if plan.delay_seconds is not None:
            if replaces:
                self.cancel(name)
            self._queues.send(queue, message, plan.delay_seconds)
            return
        assert plan.schedule_at is not None
        fire_at = plan.schedule_at.replace(second=0, microsecond=0)
        request: CreateScheduleInputTypeDef = {
            "Name": name,
            "GroupName": schedule_group_name(self._settings),
            "ScheduleExpression": f"at({fire_at.strftime('%Y-%m-%dT%H:%M:%S')})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": {
                "Arn": queue_arn(self._settings, queue),
                "RoleArn": self._settings.scheduler_role_arn,
                "Input": message.wire(compact=False),
            },
        }
        try:
            aws.scheduler().create_schedule(**request)
        except ClientError as exc:
            if _code(exc) != "ConflictException":
                raise
            aws.scheduler().update_schedule(**request)  # a re-schedule replaces the earlier one

    def cancel(self, name: str) -> None:
        try:
            aws.scheduler().delete_schedule(Name=name, GroupName=schedule_group_name(self._settings))
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
