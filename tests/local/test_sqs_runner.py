"""The SQS runner behaves like Lambda's event source mapping with ReportBatchItemFailures."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from chalice import Chalice
from chalice.app import SQSEvent
from chalice.config import Config

from chalicelib import aws
from chalicelib.settings import get_settings
from local import wait_until
from local.emulator import Emulator
from local.sqs_runner import SqsRunner, failed_message_ids

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeNameType

MAX_RECEIVE_COUNT = 2


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        get_settings.cache_clear()
        yield emu
    get_settings.cache_clear()


@dataclass
class QueueUnderTest:
    name: str
    url: str
    arn: str
    dlq_url: str

    def count(self, url: str | None = None) -> int:
        """Messages still on the queue, visible or in flight."""
        attributes = aws.sqs().get_queue_attributes(
            QueueUrl=url or self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())


@pytest.fixture
def test_queue(emulator: Emulator) -> QueueUnderTest:
    """A queue with a one-second visibility timeout and a DLQ after two receives."""
    sqs = aws.sqs()
    name = f"q{uuid.uuid4().hex[:10]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
    redrive = {"deadLetterTargetArn": dlq_arn["QueueArn"], "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    attributes: dict[QueueAttributeNameType, str] = {"VisibilityTimeout": "1"}
    attributes["RedrivePolicy"] = json.dumps(redrive)
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return QueueUnderTest(name, url, arn, dlq_url)


@dataclass
class Recorder:
    """What a test handler saw, guarded for the runner's worker threads."""

    records: list[dict[str, Any]] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, body: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.records if r["body"] == body]


def make_app(
    queue: str,
    batch_size: int,
    handle: Callable[[dict[str, Any]], Any],
    recorder: Recorder,
) -> Chalice:
    app = Chalice(app_name="tiny")

    @app.on_sqs_message(queue=queue, batch_size=batch_size, name="worker")
    def worker(event: SQSEvent) -> Any:
        raw = event.to_dict()
        with recorder.lock:
            recorder.records.extend(raw["Records"])
            recorder.contexts.append(event.context)
        return handle(raw)

    return app


def send(queue: QueueUnderTest, body: str, **attributes: Any) -> str:
    sent = aws.sqs().send_message(QueueUrl=queue.url, MessageBody=body, MessageAttributes=attributes)
    return sent["MessageId"]


def config_with(functions: dict[str, dict[str, Any]]) -> Config:
    return Config(chalice_stage="dev", config_from_disk={"stages": {"dev": {"lambda_functions": functions}}})


def test_delivers_lambda_shaped_events_and_deletes_successes(test_queue: QueueUnderTest) -> None:
    recorder = Recorder()
    app = make_app(test_queue.name, 10, lambda event: None, recorder)
    ids = [
        send(test_queue, "plain"),
        send(
            test_queue,
            "with attributes",
            kind={"DataType": "String", "StringValue": "dial"},
            blob={"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            n={"DataType": "Number", "StringValue": "7"},
        ),
        send(test_queue, json.dumps({"k": "v"})),
    ]
    config = config_with({"worker": {"lambda_memory_size": 256, "lambda_timeout": 30}})

    with SqsRunner(app, config):
        assert wait_until(lambda: len(recorder.records) == 3 and test_queue.count() == 0)

    assert sorted(r["messageId"] for r in recorder.records) == sorted(ids)
    for record in recorder.records:
        SqsRecordModel.model_validate(record)  # what Powertools' BatchProcessor parses
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == test_queue.arn
        assert record["awsRegion"] == get_settings().aws_region
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert record["receiptHandle"]
    attributes = next(r for r in recorder.records if r["body"] == "with attributes")["messageAttributes"]
    assert attributes["kind"] == {
        "stringValue": "dial",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert attributes["blob"]["binaryValue"] == base64.b64encode(b"\x00\x01").decode()
    assert attributes["n"]["dataType"] == "Number"
    context = recorder.contexts[0]
    assert context.function_name == "tiny-dev-worker"
    assert context.invoked_function_arn.endswith(":function:tiny-dev-worker")
    assert context.memory_limit_in_mb == 256
    assert 0 < context.get_remaining_time_in_millis() <= 30_000
    assert context.aws_request_id


def test_reported_failures_are_redelivered_then_dead_lettered(test_queue: QueueUnderTest) -> None:
    def handle(event: dict[str, Any]) -> dict[str, Any]:
        bad = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in bad]}

    recorder = Recorder()
    app = make_app(test_queue.name, 10, handle, recorder)
    send(test_queue, "good")
    bad_id = send(test_queue, "bad")

    with SqsRunner(app):
        assert wait_until(lambda: test_queue.count(test_queue.dlq_url) == 1, timeout=8)
        assert test_queue.count() == 0

    assert len(recorder.seen("good")) == 1  # deleted after its one success
    bad = recorder.seen("bad")
    assert [r["messageId"] for r in bad] == [bad_id] * MAX_RECEIVE_COUNT
    assert [r["attributes"]["ApproximateReceiveCount"] for r in bad] == ["1", "2"]
    dead = aws.sqs().receive_message(QueueUrl=test_queue.dlq_url)["Messages"]
    assert [m["MessageId"] for m in dead] == [bad_id]


def test_a_raising_handler_deletes_nothing(
    test_queue: QueueUnderTest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handle(event: dict[str, Any]) -> None:
        raise RuntimeError("provider down")

    recorder = Recorder()
    app = make_app(test_queue.name, 10, handle, recorder)
    send(test_queue, "one")
    send(test_queue, "two")

    with caplog.at_level(logging.ERROR, logger="local.sqs_runner"), SqsRunner(app):
        assert wait_until(lambda: test_queue.count(test_queue.dlq_url) == 2, timeout=8)

    assert len(recorder.seen("one")) == len(recorder.seen("two")) == MAX_RECEIVE_COUNT
    failures = [r.getMessage() for r in caplog.records if r.name == "local.sqs_runner"]
    assert failures and all("worker failed" in m and "RuntimeError: provider down" in m for m in failures)


def test_never_runs_more_invocations_than_reserved_concurrency(test_queue: QueueUnderTest) -> None:
    gate = threading.Event()
    recorder = Recorder()

    def handle(event: dict[str, Any]) -> None:
        with recorder.lock:
            recorder.active += 1
            recorder.max_active = max(recorder.max_active, recorder.active)
        gate.wait(5)
        with recorder.lock:
            recorder.active -= 1

    app = make_app(test_queue.name, 1, handle, recorder)
    for i in range(8):
        send(test_queue, f"m{i}")
    runner = SqsRunner(app, config_with({"worker": {"reserved_concurrency": 2}}), default_concurrency=8)
    assert runner.concurrency_for(runner.sources()[0]) == 2

    with runner:
        assert wait_until(lambda: recorder.active == 2)
        # Two handlers hold their slots; six messages wait. A third invocation must not start.
        assert not wait_until(lambda: recorder.active > 2, timeout=0.5)
        gate.set()
        assert wait_until(lambda: len(recorder.records) == 8 and test_queue.count() == 0)

    assert recorder.max_active == 2


def test_concurrency_defaults_and_maximum_concurrency() -> None:
    app = Chalice(app_name="tiny")

    @app.on_sqs_message(queue="a", name="plain")
    def plain(event: SQSEvent) -> None: ...

    @app.on_sqs_message(queue="b", name="capped", maximum_concurrency=2)
    def capped(event: SQSEvent) -> None: ...

    runner = SqsRunner(app, config_with({"capped": {"reserved_concurrency": 5}}), default_concurrency=3)
    limits = {s.name: runner.concurrency_for(s) for s in runner.sources()}
    assert limits == {"plain": 3, "capped": 2}


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),  # unknown id: whole batch
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
    ],
)
def test_reads_batch_item_failures_like_lambda(result: object, failed: set[str]) -> None:
    assert failed_message_ids(result, ["a", "b"]) == failed
