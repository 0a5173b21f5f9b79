"""Drive the app's SQS handlers synchronously against moto, as Lambda's event source mapping would."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import time_machine
from chalice import Chalice
from chalice.app import SQSEventConfig

from chalicelib import aws
from chalicelib.resources import QUEUES
from chalicelib.services.container import Dependencies
from local.faults import FaultInjector, FaultyProvider, FaultyScheduler
from tests.support.iam import acting

SWEEP_EVERY_SECONDS = 60  # the sweeper's rate (app.py), run by the pump once faults are installed


class FakeContext:
    function_name = "test"
    aws_request_id = "req"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class Pump:
    def __init__(self, app: Chalice, deps: Dependencies) -> None:
        self.app = app
        self.deps = deps
        self.sources = [s for s in app.event_sources if isinstance(s, SQSEventConfig)]
        self.invocations: dict[str, int] = {}
        # Tests set this to (function name, record body) -> bool to deliver a record twice.
        self.duplicate: Callable[[str, dict[str, Any]], bool] = lambda name, body: False
        from chalicelib.resources import schedule_group_name
        from local.scheduler_runner import SchedulerRunner

        self.scheduler = SchedulerRunner(schedule_group_name(deps.settings))
        self._traveller: Any = None
        self._coordinates: Any = None
        self.advanced_seconds = 0.0
        self.faults: FaultInjector | None = None
        self._urls: dict[str, str] = {}
        self._swept_at = 0.0
        self._max_receives = {q.short: q.max_receive_count for q in QUEUES}
        self._visibility = {q.short: q.visibility_timeout for q in QUEUES}
        # (queue name) -> whether a message may be visible: set to look into moto first and skip the receive
        # of an empty queue (the chaos test's idle rounds are mostly empty receives)
        self.peek: Callable[[str], bool] | None = None

    def install_faults(self, injector: FaultInjector) -> None:
        """Inject `injector`'s seeded faults into every handler run from now on (AWS calls, providers,
        deliveries, the Scheduler), and run the sweeper on the clock, as a deployed stage would."""
        self.faults = injector
        injector.install()
        for name, provider in list(self.deps.providers.items()):
            self.deps.providers[name] = FaultyProvider(provider, injector)
        faulty = FaultyScheduler(self.scheduler.group_name, injector)
        faulty.adopt(self.scheduler)
        self.scheduler = faulty

    def advance(self, seconds: float) -> None:
        """Move the clock (ours and moto's) forward, so delayed messages come due without waiting."""
        if self._coordinates is None:
            self._traveller = time_machine.travel(datetime.now(UTC), tick=True)
            self._coordinates = self._traveller.start()
        self._coordinates.shift(seconds)
        self.advanced_seconds += seconds

    def freeze(self) -> None:
        """Stop the clock where it is; from now on only `advance` moves it. A test that asserts how long the
        service waited then measures the service, not how slow the machine was between two steps."""
        now = datetime.now(UTC)
        if self._traveller is not None:
            self._traveller.stop()
        self._traveller = time_machine.travel(now, tick=False)
        self._coordinates = self._traveller.start()

    def restart(self, at: datetime) -> None:
        """Start over at `at` on a clock that moves only when told, with a fresh Scheduler and sweeper: the chaos
        test's seeds, each of which must replay alone exactly as in a run (the caller empties the stack)."""
        from local.scheduler_runner import SchedulerRunner

        if self._traveller is not None:
            self._traveller.stop()
        self._traveller = time_machine.travel(at, tick=False)
        self._coordinates = self._traveller.start()
        self.advanced_seconds = self._swept_at = 0.0
        self.invocations.clear()
        self.scheduler = SchedulerRunner(self.scheduler.group_name)

    def close(self) -> None:
        if self.faults is not None:
            self.faults.uninstall()
        if self._traveller is not None:
            self._traveller.stop()

    def _url(self, queue: str | None) -> str:
        assert queue, "an SQS event source names its queue"
        if queue not in self._urls:  # one lookup per queue: a step is a receive, not two calls
            self._urls[queue] = aws.sqs().get_queue_url(QueueName=queue)["QueueUrl"]
        return self._urls[queue]

    def step(self, name: str) -> int:
        """Receive one batch for `name`, invoke it, delete what succeeded; returns records handled."""
        source = next(s for s in self.sources if s.name == name)
        if self.peek is not None and source.queue and not self.peek(source.queue):
            return 0
        url = self._url(source.queue)
        received = (
            aws.sqs()
            .receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, source.batch_size), AttributeNames=["All"])
            .get("Messages", [])
        )
        if not received:
            return 0
        if self.faults is not None:
            received = self._disturb(name, url, received, self._receive_budget(source.queue))
            if not received:
                return 1
        records = [self._record(dict(m), source.queue) for m in received]
        extra = [dict(r, messageId=r["messageId"] + "-dup") for r in records if self._duplicate(name, r)]
        result = self._invoke(name, records + extra, self._receive_budget(source.queue))
        self.invocations[name] = self.invocations.get(name, 0) + 1
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for message, record in zip(received, records, strict=True):
            if record["messageId"] not in failed:
                aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            else:  # visible again at once; under faults after the queue's visibility timeout, as on AWS
                aws.sqs().change_message_visibility(
                    QueueUrl=url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_after(source.queue),
                )
        return len(records)

    def _duplicate(self, name: str, record: dict[str, Any]) -> bool:
        if self.duplicate(name, json.loads(record["body"])):
            return True
        return self.faults is not None and self.faults.roll(f"{name}.deliver", ("duplicate",)) is not None

    def _retry_after(self, queue: str | None) -> int:
        """Seconds before a failed record comes back: 0 (tests stay short), or under faults the queue's
        visibility timeout, since handlers may rely on it (a webhook sender that died before scheduling the
        next attempt is recognised by the time passed)."""
        if self.faults is None:
            return 0
        short = (queue or "").removeprefix(self.deps.settings.name(""))
        return self._visibility.get(short, 0)

    def _receive_budget(self, queue: str | None) -> int:
        """Receives a message may spend on faults: all but the last two before its DLQ, which stays for real
        bugs (a message that fails on its own)."""
        short = (queue or "").removeprefix(self.deps.settings.name(""))
        return self._max_receives.get(short, 5) - 2

    @staticmethod
    def _receives(message: dict[str, Any]) -> int:
        return int(message.get("Attributes", message.get("attributes", {})).get("ApproximateReceiveCount", 1))

    def _disturb(self, name: str, url: str, received: list[Any], budget: int) -> list[Any]:
        """Faults in delivery: a batch reordered, a message held back (delivered later, after others)."""
        assert self.faults is not None
        if self.faults.roll(f"{name}.deliver", ("reorder",)):
            self.faults.rng.shuffle(received)
        kept = []
        for message in received:
            if self._receives(message) <= budget and self.faults.roll(f"{name}.deliver", ("delay",)):
                delay = self.faults.rng.randint(1, 30)
                aws.sqs().change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=delay
                )
            else:
                kept.append(message)
        return kept

    def _invoke(self, name: str, records: list[dict[str, Any]], budget: int) -> dict[str, Any]:
        """The handler's answer; under faults a crash fails the whole batch, as a dead Lambda would."""
        handler = self.app.handler_map[name]
        if self.faults is None:
            with acting(name):
                return handler({"Records": records}, FakeContext()) or {}
        with acting(name), self.faults.armed(max(self._receives(r) for r in records) <= budget):
            try:
                if self.faults.is_armed and self.faults.roll(f"{name}.invoke", ("handler_crash",)):
                    raise RuntimeError("handler crashed (injected)")
                return handler({"Records": records}, FakeContext()) or {}
            except Exception:
                return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}

    def sweep_if_due(self) -> None:
        """Run the sweeper once per minute of (moved) clock, under faults like any handler."""
        if self.faults is None or self.advanced_seconds - self._swept_at < SWEEP_EVERY_SECONDS:
            return
        from chalicelib.workers.sweeper import sweep

        self._swept_at = self.advanced_seconds
        # a crashed sweep runs again in a minute
        with acting("sweeper"), self.faults.armed(), contextlib.suppress(Exception):
            sweep(self.deps)

    def run(self, until: Callable[[], bool] | None = None, max_steps: int = 10_000, advance_seconds: float = 0) -> None:
        """Round-robin over the consumers until every queue is empty (or `until` holds).

        With `advance_seconds`, an empty round moves the clock forward instead of giving up, so
        delayed messages (pauses, backlog waits, retries) are delivered without real waiting.
        """
        idle = 0
        for _ in range(max_steps):
            if until is not None and until():
                return
            handled = len(self.scheduler.tick()) + sum(self.step(s.name) for s in self.sources)
            if handled:
                idle = 0
                continue
            if until is None and not advance_seconds:
                return
            if not advance_seconds or idle * advance_seconds >= 3 * 3600:
                raise AssertionError("queues drained but the condition never held")
            idle += 1
            self.advance(advance_seconds)
            self.sweep_if_due()
        raise AssertionError("pump did not settle")

    @staticmethod
    def _record(message: dict[str, Any], queue: str | None) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
            "awsRegion": "us-east-1",
        }
