"""Fires EventBridge Scheduler one-time `at()` schedules, which moto only stores.

Every `poll_interval` the project's schedule group is listed; a schedule whose
`at(yyyy-mm-ddThh:mm:ss)` time (in its `ScheduleExpressionTimezone`, UTC by default)
has come delivers its `Target.Input` to its SQS target, then is deleted when
`ActionAfterCompletion` is DELETE, or remembered so it never fires twice. AWS fires
with minute precision; this fires within `poll_interval` of the exact second.

Not emulated: `rate()` and `cron()` schedules (the service only makes one-time
schedules; recurring work is a Chalice `app.schedule` rule, see `rules_runner`),
targets other than SQS, flexible time windows, StartDate/EndDate, retry policies
and target DLQs. DISABLED schedules are skipped until enabled.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib import aws

if TYPE_CHECKING:
    from mypy_boto3_scheduler.client import EventBridgeSchedulerClient
    from mypy_boto3_scheduler.type_defs import GetScheduleOutputTypeDef, ScheduleSummaryTypeDef
    from mypy_boto3_sqs.client import SQSClient

logger = logging.getLogger(__name__)

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
MAX_DELIVERY_ATTEMPTS = 5  # then the schedule is given up (logged), rather than retried every tick forever


def due_at(expression: str, timezone: str | None) -> datetime | None:
    """The instant an `at()` expression names, or None for `rate()`/`cron()` (not fired here)."""
    match = _AT.match(expression.strip())
    if match is None:
        return None
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=ZoneInfo(timezone or "UTC"))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SchedulerRunner:
    """Polls one schedule group and delivers due one-time schedules to their SQS queues."""

    def __init__(
        self,
        group_name: str,
        *,
        poll_interval: float = 0.5,
        clock: Callable[[], datetime] = _utc_now,
        scheduler: EventBridgeSchedulerClient | None = None,
        sqs: SQSClient | None = None,
    ) -> None:
        self.group_name = group_name
        self._poll_interval = poll_interval
        self._clock = clock
        self._scheduler = scheduler
        self._sqs = sqs
        # Keyed by (name, LastModificationDate): an updated or re-created schedule is a new one.
        self._details: dict[tuple[str, Any], GetScheduleOutputTypeDef] = {}
        self._done: set[tuple[str, Any]] = set()  # fired, given up, or unsupported
        self._attempts: dict[tuple[str, Any], int] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def scheduler(self) -> EventBridgeSchedulerClient:
        return self._scheduler or aws.scheduler()

    @property
    def sqs(self) -> SQSClient:
        return self._sqs or aws.sqs()

    def start(self) -> SchedulerRunner:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="scheduler-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.wait(self._poll_interval):
            try:
                self.tick()
            except Exception as error:  # the emulator going away, mostly; try again next tick
                if not self._stopping.is_set():
                    logger.warning("scheduler poll failed: %s: %s", type(error).__name__, error)

    def tick(self) -> list[str]:
        """One pass: fire every due schedule of the group; returns the names fired."""
        now = self._clock()
        fired: list[str] = []
        listed: set[tuple[str, Any]] = set()
        paginator = self.scheduler.get_paginator("list_schedules")
        for page in paginator.paginate(GroupName=self.group_name):
            for summary in page["Schedules"]:
                key = (summary["Name"], summary.get("LastModificationDate"))
                listed.add(key)
                if key in self._done or summary.get("State") == "DISABLED":
                    continue
                if self._consider(key, summary, now):
                    fired.append(summary["Name"])
        # Forget deleted and superseded schedules, so the bookkeeping stays the size of the group.
        for table in (self._details, self._attempts):
            for key in table.keys() - listed:
                del table[key]
        self._done &= listed
        return fired

    def _consider(self, key: tuple[str, Any], summary: ScheduleSummaryTypeDef, now: datetime) -> bool:
        detail = self._details.get(key)
        if detail is None:
            detail = self.scheduler.get_schedule(Name=summary["Name"], GroupName=self.group_name)
            self._details[key] = detail
        try:
            due = due_at(detail["ScheduleExpression"], detail.get("ScheduleExpressionTimezone"))
        except (ValueError, ZoneInfoNotFoundError) as error:
            logger.error("schedule %s: cannot read %r: %s", key[0], detail["ScheduleExpression"], error)
            self._done.add(key)
            return False
        if due is None:
            logger.info("schedule %s: %s is not emulated", key[0], detail["ScheduleExpression"])
            self._done.add(key)
            return False
        if due > now:
            return False
        if not self._deliver(key, detail):
            return False
        self._done.add(key)
        if detail.get("ActionAfterCompletion") == "DELETE":
            # The service may have deleted it meanwhile.
            with contextlib.suppress(self.scheduler.exceptions.ResourceNotFoundException):
                self.scheduler.delete_schedule(Name=key[0], GroupName=self.group_name)
        return True

    def _deliver(self, key: tuple[str, Any], detail: GetScheduleOutputTypeDef) -> bool:
        """Send the target's input; False to try again next tick (a bounded number of times)."""
        target = detail["Target"]
        arn = target["Arn"]
        if not arn.startswith("arn:aws:sqs:"):
            logger.warning("schedule %s: target %s is not an SQS queue; not emulated", key[0], arn)
            self._done.add(key)
            return False
        request: dict[str, Any] = {"MessageBody": target.get("Input") or "{}"}
        group_id = target.get("SqsParameters", {}).get("MessageGroupId")
        if group_id:
            request["MessageGroupId"] = group_id
        try:
            url = self.sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
            self.sqs.send_message(QueueUrl=url, **request)
        except Exception as error:
            attempts = self._attempts[key] = self._attempts.get(key, 0) + 1
            logger.error(
                "schedule %s: delivery to %s failed (%d/%d): %s",
                key[0],
                arn,
                attempts,
                MAX_DELIVERY_ATTEMPTS,
                error,
            )
            if attempts >= MAX_DELIVERY_ATTEMPTS:
                self._done.add(key)
            return False
        logger.info("schedule %s fired -> %s", key[0], arn)
        return True

    def __enter__(self) -> SchedulerRunner:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
