"""Lambda's SQS event source mapping, for any Chalice app, against the emulator.

For each `on_sqs_message` source one poller long-polls the queue and hands batches to
as many workers as the function may run at once (`reserved_concurrency` from the
stage config, lowered by the source's `maximum_concurrency`, else a default). The
poller only receives when a worker slot is free, so no message sits invisible
waiting for a worker. Results are honoured as with `ReportBatchItemFailures`:
records listed in `batchItemFailures` stay on the queue, the rest are deleted; a
raising handler deletes nothing. Redelivery after the visibility timeout and the
move to the DLQ after `maxReceiveCount` are the emulator's own (moto does both, on
ReceiveMessage, as SQS does).

Chalice's own `generate_sqs_event` gives every record the same messageId, which
would make partial failures meaningless, hence the events are built here from the
real ReceiveMessage answer.
"""

from __future__ import annotations

import base64
import logging
import math
import queue as queue_mod
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from chalice.app import SQSEventConfig

from chalicelib import aws
from chalicelib.settings import get_settings

from . import FunctionSettings, LambdaContext, function_settings

if TYPE_CHECKING:
    from chalice import Chalice
    from chalice.config import Config
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueOutputTypeDef, MessageTypeDef

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 4
SQS_MAX_BATCH = 10  # per ReceiveMessage / DeleteMessageBatch call
_SLOT_WAIT_S = 0.25  # how often a poller blocked on busy workers checks for stop


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _lambda_attribute(value: MessageAttributeValueOutputTypeDef) -> dict[str, Any]:
    """A message attribute as Lambda writes it: camelCase, binary values base64-encoded."""
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [_b64(b) for b in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _b64(value["BinaryValue"])
    return attribute


def lambda_record(message: MessageTypeDef, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of a Lambda SQS event, from one message of a ReceiveMessage answer."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_message_ids(result: object, message_ids: Sequence[str]) -> set[str]:
    """The records to keep, read from a handler's result the way Lambda reads `batchItemFailures`.

    None, a result without the key, or an empty list mean success; an identifier that is
    missing, empty or not in the batch makes Lambda fail the whole batch, and so here.
    """
    if not isinstance(result, Mapping):
        return set()
    failures = result.get("batchItemFailures") or []
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not identifier or identifier not in message_ids:
            logger.warning("invalid batchItemFailures entry %r: the whole batch is kept", item)
            return set(message_ids)
        failed.add(identifier)
    return failed


@dataclass
class _Consumer:
    """One event source: its queue, its function and its worker pool."""

    source: SQSEventConfig
    function: FunctionSettings
    handler: Callable[[dict[str, Any], Any], Any]
    concurrency: int
    queue_url: str = ""
    queue_arn: str = ""
    slots: threading.BoundedSemaphore = field(init=False)
    batches: queue_mod.SimpleQueue[list[MessageTypeDef] | None] = field(default_factory=queue_mod.SimpleQueue)
    workers: list[threading.Thread] = field(default_factory=list)
    poller: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.slots = threading.BoundedSemaphore(self.concurrency)

    @property
    def queue_name(self) -> str:
        if self.source.queue:
            return self.source.queue
        assert self.source.queue_arn, "an SQS event source names a queue or an ARN"
        return self.source.queue_arn.rsplit(":", 1)[-1]


class SqsRunner:
    """Polls every SQS event source of `app` and invokes its handler like Lambda would."""

    def __init__(
        self,
        app: Chalice,
        config: Config | None = None,
        *,
        default_concurrency: int = DEFAULT_CONCURRENCY,
        wait_time_seconds: int = 1,
        region: str | None = None,
        account_id: str | None = None,
        sqs: SQSClient | None = None,
        around: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> None:
        settings = get_settings()
        self._around = around or nullcontext  # e.g. arming seeded faults for the invocation (local/faults.py)
        self._app = app
        self._config = config
        self._default_concurrency = default_concurrency
        self._wait_time_seconds = wait_time_seconds
        self._region = region or settings.aws_region
        self._account_id = account_id or settings.aws_account_id
        self._sqs = sqs
        self._stopping = threading.Event()
        self._dispatch_lock = threading.Lock()
        self.consumers: list[_Consumer] = []

    @property
    def sqs(self) -> SQSClient:
        return self._sqs or aws.sqs()

    def sources(self) -> list[SQSEventConfig]:
        return [s for s in self._app.event_sources if isinstance(s, SQSEventConfig)]

    def concurrency_for(self, source: SQSEventConfig) -> int:
        """Reserved concurrency of the function (else the default), capped by the source's maximum."""
        fn = function_settings(self._app, source.name, self._config, self._region, self._account_id)
        limit = self._default_concurrency if fn.reserved_concurrency is None else fn.reserved_concurrency
        if source.maximum_concurrency:
            limit = min(limit, source.maximum_concurrency)
        return limit

    def start(self) -> SqsRunner:
        """Resolve every queue (failing fast if one is missing), then start pollers and workers."""
        # A fresh event per run: a poller of a past run still inside its long poll stays stopped.
        self._stopping = stopping = threading.Event()
        for source in self.sources():
            fn = function_settings(self._app, source.name, self._config, self._region, self._account_id)
            consumer = _Consumer(source, fn, self._app.handler_map[source.name], self.concurrency_for(source))
            if consumer.concurrency <= 0:
                logger.warning("%s has reserved concurrency 0: Lambda never runs it, nor do we", source.name)
                continue
            try:
                consumer.queue_url = self.sqs.get_queue_url(QueueName=consumer.queue_name)["QueueUrl"]
            except self.sqs.exceptions.QueueDoesNotExist:
                missing = f"queue {consumer.queue_name!r} of {source.name!r} does not exist"
                raise RuntimeError(missing) from None
            consumer.queue_arn = self.sqs.get_queue_attributes(
                QueueUrl=consumer.queue_url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            self.consumers.append(consumer)
        for consumer in self.consumers:
            name = consumer.source.name
            consumer.workers = [
                threading.Thread(target=self._work, args=(consumer,), name=f"sqs-{name}-{i}", daemon=True)
                for i in range(consumer.concurrency)
            ]
            consumer.poller = threading.Thread(
                target=self._poll, args=(consumer, stopping), name=f"sqs-{name}-poller", daemon=True
            )
            for thread in [*consumer.workers, consumer.poller]:
                thread.start()
            logger.info(
                "sqs %s <- %s (batch %d, concurrency %d)",
                name,
                consumer.queue_name,
                consumer.source.batch_size,
                consumer.concurrency,
            )
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling and let running invocations finish (up to `timeout`); no invocation starts after.

        A poller inside a long poll is not waited for: whatever it receives from now on is
        handed back to the queue at once (the lock makes "still running? then queue the
        batch" atomic against this), so stopping never costs a whole long poll.
        """
        deadline = time.monotonic() + timeout
        with self._dispatch_lock:
            self._stopping.set()
            for consumer in self.consumers:
                for _ in consumer.workers:
                    consumer.batches.put(None)
        for thread in (w for c in self.consumers for w in c.workers):
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("%s still running after %.1f s; left behind", thread.name, timeout)
        self.consumers = []

    def _poll(self, consumer: _Consumer, stopping: threading.Event) -> None:
        while not stopping.is_set():
            if not consumer.slots.acquire(timeout=_SLOT_WAIT_S):
                continue  # every worker busy: receive nothing we could not start on
            try:
                messages = self._receive(consumer, stopping)
            except Exception as error:  # the emulator going away, mostly
                consumer.slots.release()
                if not stopping.is_set():
                    logger.warning("receive from %s failed: %s", consumer.queue_name, error)
                    stopping.wait(1.0)
                continue
            if messages:
                with self._dispatch_lock:
                    if not stopping.is_set():
                        consumer.batches.put(messages)
                        continue
            consumer.slots.release()
            if messages:
                self._hand_back(consumer, messages)

    def _receive(self, consumer: _Consumer, stopping: threading.Event) -> list[MessageTypeDef]:
        """One batch: a long poll, then more receives while the source's batching window allows."""
        wanted = consumer.source.batch_size
        window = consumer.source.maximum_batching_window_in_seconds or 0
        deadline = time.monotonic() + window
        messages: list[MessageTypeDef] = []
        wait = self._wait_time_seconds
        while len(messages) < wanted and not stopping.is_set():
            received = self.sqs.receive_message(
                QueueUrl=consumer.queue_url,
                MaxNumberOfMessages=min(SQS_MAX_BATCH, wanted - len(messages)),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(received)
            remaining = deadline - time.monotonic()
            if not messages or remaining <= 0 or (not received and wait == 0):
                break
            wait = min(self._wait_time_seconds, math.floor(remaining))
        return messages

    def _hand_back(self, consumer: _Consumer, messages: list[MessageTypeDef]) -> None:
        """Messages received while stopping become visible again at once rather than after the timeout."""
        try:
            self._change_visibility(consumer, messages)
        except Exception as error:  # the emulator may be stopping too: they reappear after the timeout
            logger.debug("could not hand back %d message(s): %s", len(messages), error)

    def _change_visibility(self, consumer: _Consumer, messages: list[MessageTypeDef]) -> None:
        for start in range(0, len(messages), SQS_MAX_BATCH):
            chunk = messages[start : start + SQS_MAX_BATCH]
            self.sqs.change_message_visibility_batch(
                QueueUrl=consumer.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ],
            )

    def _work(self, consumer: _Consumer) -> None:
        while (messages := consumer.batches.get()) is not None:
            try:
                self._invoke(consumer, messages)
            except Exception:  # never lose a worker (and with it a slot) to an emulator error
                logger.exception("sqs %s: invocation bookkeeping failed", consumer.source.name)
            finally:
                consumer.slots.release()

    def _invoke(self, consumer: _Consumer, messages: list[MessageTypeDef]) -> None:
        event = {"Records": [lambda_record(m, consumer.queue_arn, self._region) for m in messages]}
        ids = [m["MessageId"] for m in messages]
        try:
            with self._around():
                result = consumer.handler(event, LambdaContext.for_function(consumer.function))
        except Exception as error:
            logger.error(
                "sqs %s failed on %d record(s), all kept: %s: %s",
                consumer.source.name,
                len(messages),
                type(error).__name__,
                error,
            )
            logger.debug("traceback of the failed %s invocation", consumer.source.name, exc_info=True)
            return
        failed = failed_message_ids(result, ids)
        if failed:
            logger.info("sqs %s: %d of %d record(s) failed", consumer.source.name, len(failed), len(ids))
        self._delete(consumer, [m for m in messages if m["MessageId"] not in failed])

    def _delete(self, consumer: _Consumer, messages: list[MessageTypeDef]) -> None:
        for start in range(0, len(messages), SQS_MAX_BATCH):
            chunk = messages[start : start + SQS_MAX_BATCH]
            answer = self.sqs.delete_message_batch(
                QueueUrl=consumer.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failure in answer.get("Failed", []):
                logger.warning("sqs %s: could not delete a message: %s", consumer.source.name, failure)

    def __enter__(self) -> SqsRunner:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
