"""The scheduler runner fires one-time `at()` schedules in their timezone, when due, exactly once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pytest

from chalicelib import aws, resources
from chalicelib.settings import Settings, get_settings
from local import wait_until
from local.bootstrap import create_resources
from local.emulator import Emulator
from local.scheduler_runner import SchedulerRunner, due_at

NEW_YORK = "America/New_York"
# 10:00 in New York on 15 January is 15:00 UTC: a runner that ignored the zone would fire five hours early.
AT_NEW_YORK = "at(2031-01-15T10:00:00)"
DUE_UTC = datetime(2031, 1, 15, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def settings(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("RESOURCE_PREFIX", f"t{uuid.uuid4().hex[:8]}")
    get_settings.cache_clear()
    create_resources(get_settings())
    yield get_settings()
    get_settings.cache_clear()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def create_schedule(
    settings: Settings,
    name: str,
    expression: str,
    *,
    timezone: str = "UTC",
    after: Literal["NONE", "DELETE"] = "NONE",
    state: Literal["ENABLED", "DISABLED"] = "ENABLED",
    group: str | None = None,
) -> None:
    aws.scheduler().create_schedule(
        Name=name,
        GroupName=group or resources.schedule_group_name(settings),
        ScheduleExpression=expression,
        ScheduleExpressionTimezone=timezone,
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion=after,
        State=state,
        Target={
            "Arn": resources.queue_arn(settings, resources.CONTROL_QUEUE),
            "RoleArn": settings.scheduler_role_arn,
            "Input": json.dumps({"schedule": name}),
        },
    )


def control_messages(settings: Settings) -> list[dict[str, object]]:
    """Drain the control queue (the schedules' target): the inputs delivered so far."""
    sqs = aws.sqs()
    url = sqs.get_queue_url(QueueName=resources.queue_name(settings, resources.CONTROL_QUEUE))["QueueUrl"]
    bodies: list[dict[str, object]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [json.loads(m["Body"]) for m in messages]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
    return bodies


def schedule_exists(settings: Settings, name: str) -> bool:
    scheduler = aws.scheduler()
    try:
        scheduler.get_schedule(Name=name, GroupName=resources.schedule_group_name(settings))
    except scheduler.exceptions.ResourceNotFoundException:
        return False
    return True


def test_reads_at_expressions_in_their_timezone() -> None:
    assert due_at(AT_NEW_YORK, NEW_YORK) == DUE_UTC
    assert due_at("at(2031-07-01T09:30:00)", "Asia/Kolkata") == datetime(2031, 7, 1, 4, 0, tzinfo=UTC)
    assert due_at("at(2031-07-01T09:30:00)", None) == datetime(2031, 7, 1, 9, 30, tzinfo=UTC)
    assert due_at("rate(5 minutes)", "UTC") is None
    assert due_at("cron(0 12 * * ? *)", "UTC") is None


def test_fires_once_when_due_and_not_before(settings: Settings) -> None:
    create_schedule(settings, "start-b1", AT_NEW_YORK, timezone=NEW_YORK)
    clock = Clock(DUE_UTC - timedelta(seconds=1))
    runner = SchedulerRunner(resources.schedule_group_name(settings), clock=clock)

    assert runner.tick() == []
    assert control_messages(settings) == []

    clock.now = DUE_UTC
    assert runner.tick() == ["start-b1"]
    clock.now = DUE_UTC + timedelta(minutes=5)
    assert runner.tick() == []
    assert control_messages(settings) == [{"schedule": "start-b1"}]
    assert schedule_exists(settings, "start-b1")  # ActionAfterCompletion NONE keeps it


def test_deletes_the_schedule_after_completion_when_asked(settings: Settings) -> None:
    create_schedule(settings, "start-b2", AT_NEW_YORK, timezone=NEW_YORK, after="DELETE")
    runner = SchedulerRunner(resources.schedule_group_name(settings), clock=Clock(DUE_UTC))

    assert runner.tick() == ["start-b2"]
    assert not schedule_exists(settings, "start-b2")
    assert runner.tick() == []
    assert control_messages(settings) == [{"schedule": "start-b2"}]


def test_skips_disabled_recurring_and_other_groups_schedules(settings: Settings) -> None:
    create_schedule(settings, "disabled", AT_NEW_YORK, timezone=NEW_YORK, state="DISABLED")
    create_schedule(settings, "recurring", "rate(1 minute)")
    aws.scheduler().create_schedule_group(Name="batches")
    create_schedule(settings, "elsewhere", AT_NEW_YORK, timezone=NEW_YORK, group="batches")
    try:
        runner = SchedulerRunner(resources.schedule_group_name(settings), clock=Clock(DUE_UTC))
        assert runner.tick() == []
        assert control_messages(settings) == []
    finally:
        aws.scheduler().delete_schedule_group(Name="batches")


def test_a_rescheduled_schedule_fires_again(settings: Settings) -> None:
    create_schedule(settings, "start-b3", AT_NEW_YORK, timezone=NEW_YORK)
    clock = Clock(DUE_UTC)
    runner = SchedulerRunner(resources.schedule_group_name(settings), clock=clock)
    assert runner.tick() == ["start-b3"]

    aws.scheduler().delete_schedule(Name="start-b3", GroupName=resources.schedule_group_name(settings))
    create_schedule(settings, "start-b3", "at(2031-01-15T10:30:00)", timezone=NEW_YORK)
    assert runner.tick() == []
    clock.now = DUE_UTC + timedelta(minutes=30)
    assert runner.tick() == ["start-b3"]
    assert len(control_messages(settings)) == 2


def test_the_running_thread_delivers_a_due_schedule_on_time(settings: Settings) -> None:
    due = (datetime.now(ZoneInfo("Asia/Kolkata")) + timedelta(seconds=2)).replace(microsecond=0)
    create_schedule(settings, "soon", f"at({due:%Y-%m-%dT%H:%M:%S})", timezone="Asia/Kolkata")
    sqs = aws.sqs()
    url = sqs.get_queue_url(QueueName=resources.queue_name(settings, resources.CONTROL_QUEUE))["QueueUrl"]
    received = []

    with SchedulerRunner(resources.schedule_group_name(settings), poll_interval=0.1):

        def receive() -> bool:
            answer = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["SentTimestamp"])
            received.extend(answer.get("Messages", []))
            return bool(received)

        assert wait_until(receive, timeout=5)
        assert not wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"), timeout=0.3)

    assert [json.loads(m["Body"]) for m in received] == [{"schedule": "soon"}]
    sent = datetime.fromtimestamp(int(received[0]["Attributes"]["SentTimestamp"]) / 1000, UTC)
    assert due <= sent < due + timedelta(seconds=1)
