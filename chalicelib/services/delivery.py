"""Deliver a queue message at a given time: an SQS delay when it is under 15 minutes away
(exact to the second), else an EventBridge Scheduler one-time schedule (minute precision; the
consumer re-delays whatever is early, so the time given is kept)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from .. import aws, clock
from ..domain.scheduling import plan_start
from ..resources import Queue, queue_arn, schedule_group_name
from .container import Services


def deliver_at(svc: Services, queue: Queue, body: dict[str, Any], when: datetime, schedule_name: str) -> None:
    now = clock.now()
    plan = plan_start(when, now)
    if plan.delay_seconds is not None:
        cancel(svc, schedule_name)
        svc.queues.send(queue, body, plan.delay_seconds)
        return
    assert plan.schedule_at is not None
    fire_at = plan.schedule_at.replace(second=0, microsecond=0)
    request: dict[str, Any] = {
        "Name": schedule_name,
        "GroupName": schedule_group_name(svc.settings),
        "ScheduleExpression": f"at({fire_at.strftime('%Y-%m-%dT%H:%M:%S')})",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Target": {
            "Arn": queue_arn(svc.settings, queue),
            "RoleArn": svc.settings.scheduler_role_arn,
            "Input": json.dumps(body),
        },
    }
    try:
        aws.scheduler().create_schedule(**request)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConflictException":
            raise
        aws.scheduler().update_schedule(**request)  # a re-schedule replaces the earlier one


def cancel(svc: Services, schedule_name: str) -> None:
    try:
        aws.scheduler().delete_schedule(Name=schedule_name, GroupName=schedule_group_name(svc.settings))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
