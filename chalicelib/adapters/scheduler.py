"""Send a queue message at a given time: an SQS delay when it is under 15 minutes away (exact to the
second), else an EventBridge Scheduler one-time schedule (minute precision; the consumer re-delays
whatever is early, so the time given is kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from .. import aws, clock
from ..domain.messages import QueueMessage
from ..domain.scheduling import plan_start
from ..resources import Queue, queue_arn, schedule_group_name
from ..settings import Settings
from .queues import Queues


class Scheduler:
    """Named one-time deliveries: sending again under the same name replaces the earlier one."""

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
        request: dict[str, Any] = {
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
