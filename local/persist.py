"""The emulator's state on disk: nothing it acknowledged is lost by a Ctrl-C, a crash or kill -9.

What is persisted: moto's DynamoDB, S3, SQS and EventBridge Scheduler (other services, such as
SSM, stay in memory). How, in two kinds of log record (see `local.wal` for the files):

- Requests. DynamoDB, S3, Scheduler and SQS's queue-level calls are deterministic given the
  state and the order, so a mutating request is recorded as it came (method, path, headers,
  body) when it succeeded, and replayed through moto at start. Applying and appending
  happen under one lock (`MUTATE`), so the log's order is the order they were applied in.
  One generated value matters later: an S3 multipart upload id, which the replay maps.
- Effects. An SQS message is not deterministic (random ids and receipt handles, receive
  counts and visibility moved by ReceiveMessage), so the message itself is recorded each
  time it changes (sent, received, made visible, moved to its DLQ) and when it is deleted;
  replaying is setting it. At start, messages that were in flight are made visible at once
  (`release_in_flight`: their consumers died with the process).

An answer leaves only after every record appended so far is fsynced (group commit in
`WriteAheadLog.sync`): an acknowledged write, and anything a reader was shown, is on disk.

Snapshots: the backends are pickled (SQS's queue holds a `threading.Condition`, pickled as a
fresh one) under `MUTATE`, so no write is half applied, when the log outgrows the last
snapshot and at a clean stop; the log then starts a new generation.
"""

from __future__ import annotations

import contextlib
import copyreg
import fcntl
import functools
import io
import json
import logging
import os
import pickle
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import moto
from moto.dynamodb.models.dynamo_type import LimitedSizeDict

from .wal import HEADER, DataError, LogContents, WriteAheadLog, read_log, read_snapshot, write_snapshot

logger = logging.getLogger(__name__)

SERVICES = ("dynamodb", "s3", "sqs", "scheduler")
SNAPSHOT = "snapshot.bin"
LOG = "wal.log"
LOCK = "lock"
# The log is folded into a new snapshot once past both: compaction costs in proportion to the state,
# so it comes after a log of comparable size (amortised), and restart replays at most that much.
MIN_COMPACT_BYTES = 32 * 1024 * 1024
COMPACT_RATIO = 0.5  # of the last snapshot's size

MUTATE = threading.RLock()  # held while a change is applied and logged, and while a snapshot is taken

_DYNAMODB_READS = {
    "BatchGetItem",
    "DescribeContinuousBackups",
    "DescribeEndpoints",
    "DescribeLimits",
    "DescribeTable",
    "DescribeTimeToLive",
    "GetItem",
    "ListTables",
    "ListTagsOfResource",
    "Query",
    "Scan",
    "TransactGetItems",
}
_SQS_READS = {"GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues", "ListQueueTags", "ListQueues"}
_SQS_MESSAGE_CALLS = {  # their effects are logged by the hooks below, not the requests
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "DeleteMessage",
    "DeleteMessageBatch",
    "PurgeQueue",
    "ReceiveMessage",
    "SendMessage",
    "SendMessageBatch",
}
_DROPPED_HEADERS = {"user-agent", "accept-encoding", "connection", "content-length", "expect"}
_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")

_store: Store | None = None  # the open store, whose log the hooks write; None while replaying or stopped


def fresh_hint(data_dir: Path) -> str:
    return (
        f"To start fresh, move {data_dir} away (keep it for a look) or run `make run FRESH=1`"
        f" (`python -m local --fresh`), which deletes it. Nothing was changed."
    )


# -- which requests change what ------------------------------------------------------------------


def _service(environ: dict[str, Any]) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
    else:
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        scope = (query.get("X-Amz-Credential") or [""])[0]
    parts = scope.split("/")
    if len(parts) >= 4:
        return parts[3].lower()
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("DynamoDB"):
        return "dynamodb"
    if target.startswith("AmazonSQS"):
        return "sqs"
    if environ.get("PATH_INFO", "").startswith("/moto-api"):
        return "moto-api"
    return "s3"  # an unsigned upload: a presigned POST form


def _action(environ: dict[str, Any], body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1]
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" not in query and body and b"Action=" in body[:4096]:
        query = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return (query.get("Action") or [""])[0]


def classify(environ: dict[str, Any], body: bytes) -> str:
    """'request' (log it), 'effects' (SQS message calls: the hooks log them) or 'read'."""
    service = _service(environ)
    method = environ.get("REQUEST_METHOD", "GET")
    if service == "dynamodb":
        return "read" if _action(environ, body) in _DYNAMODB_READS else "request"
    if service == "sqs":
        action = _action(environ, body)
        if action in _SQS_MESSAGE_CALLS:
            return "effects"
        return "read" if action in _SQS_READS else "request"
    if service in ("s3", "scheduler"):
        return "read" if method in ("GET", "HEAD", "OPTIONS") else "request"
    return "read"  # not persisted (SSM, STS, moto's own API)


# -- the WSGI wrapper ----------------------------------------------------------------------------


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(stream.read(length)) if length > 0 else b""


def _call(app: Callable[..., Any], environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    """Run a WSGI app to the end; (status, headers, body chunks)."""
    answer: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
        answer["status"], answer["headers"] = status, headers
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], chunks


class DurableApp:
    """moto's WSGI app, with every change logged and fsynced before its answer leaves."""

    def __init__(self, app: Callable[..., Any], store: Store) -> None:
        self.app = app
        self.store = store

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        if classify(environ, body) == "request":
            with MUTATE:
                status, headers, chunks = _call(self.app, environ)
                if status[:1] == "2":
                    self.store.append(_request_record(environ, body, b"".join(chunks)))
        else:
            status, headers, chunks = _call(self.app, environ)
        self.store.sync()  # this change, and whatever this answer shows, is on disk before the answer
        start_response(status, headers)
        return chunks


def _request_record(environ: dict[str, Any], body: bytes, answer: bytes) -> tuple[Any, ...]:
    headers = [
        (key[5:].replace("_", "-").title(), str(value))
        for key, value in environ.items()
        if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _DROPPED_HEADERS
    ]
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    extra: dict[str, str] = {}
    query = environ.get("QUERY_STRING", "")
    if "uploads" in urllib.parse.parse_qs(query, keep_blank_values=True):
        match = _UPLOAD_ID.search(answer)
        if match:
            extra["upload_id"] = match.group(1).decode()
    return ("req", environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"), query, headers, body, extra)


# -- SQS: messages are logged as they change -----------------------------------------------------


def _queue_key(queue: Any) -> tuple[str, str, str]:
    return (queue.account_id, queue.region, queue.name)


def _log_put(queue: Any, message: Any) -> None:
    if _store is not None:
        _store.append(("sqs_put", *_queue_key(queue), message))


def _install_sqs_hooks() -> None:
    """Wrap moto's SQS where messages change (once per process; a no-op while no store is open)."""
    from moto.sqs.models import Queue, SQSBackend

    if getattr(Queue, "_batchcall_hooked", False):
        return
    add_message = Queue.add_message
    delete_message = Queue.delete_message
    receive_message = SQSBackend.receive_message
    change_visibility = SQSBackend.change_message_visibility
    purge_queue = SQSBackend.purge_queue

    @functools.wraps(add_message)
    def add(queue: Any, message: Any) -> None:
        with MUTATE:
            add_message(queue, message)
            if queue._messages and queue._messages[-1] is message:  # not dropped as a FIFO duplicate
                _log_put(queue, message)

    @functools.wraps(delete_message)
    def delete(queue: Any, receipt_handle: str) -> None:
        with MUTATE:
            gone = [m.id for m in queue._messages if m.had_receipt_handle(receipt_handle)]
            delete_message(queue, receipt_handle)
            if gone and _store is not None:
                _store.append(("sqs_del", *_queue_key(queue), gone))

    @functools.wraps(receive_message)
    def receive(
        backend: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        # moto's long poll, rebuilt so that MUTATE is held for each pass but never while waiting.
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with MUTATE:
                result = receive_message(backend, queue_name, count, 0, visibility_timeout, message_attribute_names)
                queue = backend.get_queue(queue_name)
                if result:
                    ids = {m.id for m in result}
                    for message in queue._messages:
                        if message.id in ids:
                            _log_put(queue, message)
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                return result  # type: ignore[no-any-return]
            queue.wait_for_messages(min(1.0, remaining))  # type: ignore[arg-type]

    @functools.wraps(change_visibility)
    def change(backend: Any, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
        with MUTATE:
            change_visibility(backend, queue_name, receipt_handle, visibility_timeout)
            queue = backend.get_queue(queue_name)
            for message in queue._messages:
                if message.had_receipt_handle(receipt_handle):
                    _log_put(queue, message)

    @functools.wraps(purge_queue)
    def purge(backend: Any, queue_name: str) -> None:
        with MUTATE:
            purge_queue(backend, queue_name)
            if _store is not None:
                _store.append(("sqs_purge", *_queue_key(backend.get_queue(queue_name))))

    for owner, name, hook in (
        (Queue, "add_message", add),
        (Queue, "delete_message", delete),
        (SQSBackend, "receive_message", receive),
        (SQSBackend, "change_message_visibility", change),
        (SQSBackend, "purge_queue", purge),
    ):
        setattr(owner, name, hook)
    Queue._batchcall_hooked = True  # type: ignore[attr-defined]


# -- snapshots ------------------------------------------------------------------------------------


def _fresh_lock(kind: Callable[[], Any]) -> Callable[[Any], tuple[Any, tuple[()]]]:
    return lambda _: (kind, ())


def _limited_size_dict(items: dict[str, Any]) -> Any:
    """A DynamoDB item's attributes, rebuilt without the size check each insert makes (quadratic)."""
    attributes = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(attributes, items)
    return attributes


def _dispatch_table() -> dict[Any, Any]:
    table = copyreg.dispatch_table.copy()
    table[threading.Condition] = _fresh_lock(threading.Condition)
    table[type(threading.Lock())] = _fresh_lock(threading.Lock)
    table[type(threading.RLock())] = _fresh_lock(threading.RLock)
    # Unpickled as a dict subclass, every attribute would go through its __setitem__, which sums the
    # sizes of all the others: 10 s for 30,000 items instead of 1.
    table[LimitedSizeDict] = lambda attributes: (_limited_size_dict, (dict(attributes),))
    return table


_DISPATCH = _dispatch_table()


def _dumps(value: Any) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(value)
    return out.getvalue()


def _backend_dict(service: str) -> Any:
    from moto.backends import get_backend

    return get_backend(service)  # type: ignore[call-overload]


def capture() -> dict[str, Any]:
    """Every persisted backend, by service and (account, region); call with MUTATE held."""
    return {
        service: {
            (account, region): backend
            for account, regions in _backend_dict(service).items()
            for region, backend in regions.items()
        }
        for service in SERVICES
    }


def reset() -> None:
    """Empty every persisted backend: the state is the data directory's, not what this process held."""
    for service in SERVICES:
        for account in _backend_dict(service).values():
            account.reset()
    _backend_dict("s3").bucket_accounts.clear()


def install(state: dict[str, Any]) -> None:
    for service, backends in state.items():
        accounts = _backend_dict(service)
        for (account, region), backend in backends.items():
            dict.__setitem__(accounts[account], region, backend)
    # S3 finds a bucket's owner in an index beside the backends, which must name the restored ones.
    index = _backend_dict("s3").bucket_accounts
    for (account, _), backend in state.get("s3", {}).items():
        for name, bucket in backend.buckets.items():
            index[name] = (bucket.partition, account)


@dataclass
class Summary:
    """What the data directory held at start, for the banner."""

    items: dict[str, int] = field(default_factory=dict)  # table name -> item count
    messages: int = 0  # queued SQS messages, in flight or delayed included
    records: int = 0  # log records replayed
    restored: bool = False
    released: int = 0  # messages in flight at the stop, visible again at once


def summarize(records: int, restored: bool) -> Summary:
    summary = Summary(records=records, restored=restored)
    for regions in _backend_dict("dynamodb").values():
        for backend in regions.values():
            for name, table in backend.tables.items():
                summary.items[name] = summary.items.get(name, 0) + len(table)
    for regions in _backend_dict("sqs").values():
        for backend in regions.values():
            summary.messages += sum(len(queue._messages) for queue in backend.queues.values())
    return summary


def release_in_flight() -> int:
    """Make the messages that were in flight at the stop visible now; returns how many.

    In AWS a visibility timeout keeps a message from other consumers while a live one works on
    it. Every consumer of the local stack lived in the stopped process, so none still works on
    one: waiting out the timeout (6 minutes for the control queue, 90 for ingest) would only
    stall the campaign. Delivery stays at least once: the message comes back with its receive
    count (so maxReceiveCount still moves a poison message to its DLQ); a delay that
    `DelaySeconds` set is kept.
    """
    now = time.time() * 1000
    released = 0
    for regions in _backend_dict("sqs").values():
        for backend in regions.values():
            for queue in backend.queues.values():
                for message in queue._messages:
                    if message.visible_at > now:
                        message.visible_at = 0.0
                        released += 1
                queue.pending_messages.clear()
    return released


# -- replay ---------------------------------------------------------------------------------------


class _Replay:
    """Applies log records to the installed backends, in order, with the hooks and notifications off."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.upload_ids: dict[str, str] = {}
        self.messages: dict[int, dict[str, Any]] = {}  # id(queue) -> {message id: message}
        self.queues: dict[int, Any] = {}
        self.where: dict[str, Any] = {}  # message id -> queue
        self.failed = 0

    def _index(self, key: tuple[str, str, str]) -> tuple[Any, dict[str, Any]] | None:
        account, region, name = key
        queue = _backend_dict("sqs")[account][region].queues.get(name)
        if queue is None:
            return None
        index = self.messages.get(id(queue))
        if index is None:
            index = self.messages[id(queue)] = {m.id: m for m in queue._messages}
            self.queues[id(queue)] = queue
            for message_id in index:
                self.where[message_id] = queue
        return queue, index

    def apply(self, record: tuple[Any, ...]) -> None:
        kind = record[0]
        if kind == "req":
            self._request(*record[1:])
            return
        found = self._index(record[1:4])
        if found is None:
            self.failed += 1
            return
        queue, index = found
        if kind == "sqs_put":
            message = record[4]
            previous = self.where.get(message.id)
            if previous is not None and previous is not queue:  # moved to its DLQ
                self.messages[id(previous)].pop(message.id, None)
            index[message.id] = message
            self.where[message.id] = queue
        elif kind == "sqs_del":
            for message_id in record[4]:
                message = index.pop(message_id, None)
                self.where.pop(message_id, None)
                if message is not None:
                    queue.deleted_messages.update(message.all_receipt_handles)
        elif kind == "sqs_purge":
            for message_id in index:
                self.where.pop(message_id, None)
            index.clear()

    def _request(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes, extra: dict[str, str]
    ) -> None:
        from werkzeug.test import EnvironBuilder

        if self.upload_ids and "uploadId=" in query:
            parsed = urllib.parse.parse_qsl(query, keep_blank_values=True)
            query = urllib.parse.urlencode(
                [(k, self.upload_ids.get(v, v) if k == "uploadId" else v) for k, v in parsed]
            )
        environ = EnvironBuilder(path=path, method=method, query_string=query, headers=headers, data=body).get_environ()
        status, _, chunks = _call(self.app, environ)
        if status[:1] != "2":
            self.failed += 1
            logger.warning("replaying %s %s answered %s", method, path[:80], status)
        if "upload_id" in extra:
            match = _UPLOAD_ID.search(b"".join(chunks))
            if match:
                self.upload_ids[extra["upload_id"]] = match.group(1).decode()

    def finish(self) -> None:
        for key, index in self.messages.items():
            self.queues[key]._messages = list(index.values())


@contextlib.contextmanager
def _notifications_off() -> Any:
    """A replayed S3 upload must not send its notification again: the message is in the log already."""
    from moto.s3 import notifications

    saved = notifications.send_event, notifications.send_test_event
    notifications.send_event = lambda *args, **kwargs: None  # type: ignore[assignment]
    notifications.send_test_event = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        yield
    finally:
        notifications.send_event, notifications.send_test_event = saved


# -- the store ------------------------------------------------------------------------------------


class Store:
    """A data directory, opened: restored into moto's backends, then logging every change."""

    def __init__(self, data_dir: Path, compact_bytes: int = MIN_COMPACT_BYTES) -> None:
        self.data_dir = data_dir
        self.min_compact_bytes = compact_bytes
        self.log: WriteAheadLog | None = None
        self.snapshot_bytes = 0
        self.summary = Summary()
        self._lock_fd = -1
        self._compacting = threading.Lock()
        self._compact_wanted = threading.Event()
        self._closing = threading.Event()
        self._compactor: threading.Thread | None = None

    @property
    def snapshot_path(self) -> Path:
        return self.data_dir / SNAPSHOT

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG

    def open(self, app: Callable[..., Any], fresh: bool = False) -> Store:
        """Lock the directory, restore what it holds into moto (via `app` for requests), start logging."""
        global _store
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            if fresh:
                self._wipe()
            _install_sqs_hooks()
            generation, replayed, restored = self._restore(app)
            if self.log is None:
                self.log = WriteAheadLog.create(self.log_path, generation + 1)
            self.summary = summarize(replayed, restored)
            self.summary.released = release_in_flight()
        except BaseException:
            self._unlock()
            raise
        _store = self
        self._compactor = threading.Thread(target=self._compact_loop, name="data-compactor", daemon=True)
        self._compactor.start()
        return self

    def _lock(self) -> None:
        fd = os.open(self.data_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataError(self.data_dir, "another local stack is using this data directory") from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = -1

    def _wipe(self) -> None:
        for name in (SNAPSHOT, LOG, SNAPSHOT + ".tmp", LOG + ".tmp"):
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / name).unlink()
        logger.warning("starting fresh: the data in %s was deleted", self.data_dir)

    def _restore(self, app: Callable[..., Any]) -> tuple[int, int, bool]:
        """Load the snapshot, replay the log on it; (generation, records replayed, anything restored)."""
        hint = fresh_hint(self.data_dir)
        generation = 0
        restored = False
        reset()
        if self.snapshot_path.exists():
            try:
                generation, payload = read_snapshot(self.snapshot_path)
                saved = pickle.loads(payload)
            except DataError as error:
                raise DataError(error.path, error.reason, hint) from None
            except Exception as error:
                raise DataError(self.snapshot_path, f"cannot be read: {type(error).__name__}: {error}", hint) from None
            if saved.get("moto") != moto.__version__:
                reason = f"written with moto {saved.get('moto')}, this is moto {moto.__version__}"
                raise DataError(self.snapshot_path, reason, hint + f" Or install moto=={saved.get('moto')}.")
            install(saved["state"])
            self.snapshot_bytes = len(payload)
            restored = True
        if not self.log_path.exists():
            return generation, 0, restored
        try:
            contents = read_log(self.log_path)
        except DataError as error:
            raise DataError(error.path, error.reason, hint) from None
        if contents.generation <= generation:  # a crash between a snapshot and its new log: included
            return generation, 0, restored
        if contents.generation != generation + 1:
            reason = f"log generation {contents.generation} does not follow the snapshot's ({generation})"
            raise DataError(self.log_path, reason, hint)
        replayed = self._replay(app, contents, hint)
        self.log = WriteAheadLog.open(self.log_path, contents.generation, contents.valid_bytes)
        return generation, replayed, restored or replayed > 0

    def _replay(self, app: Callable[..., Any], contents: LogContents, hint: str) -> int:
        if contents.torn_bytes:
            logger.warning(
                "%s: an incomplete last record (%d bytes, a write the stop cut short, never acknowledged) is dropped",
                self.log_path,
                contents.torn_bytes,
            )
        replay = _Replay(app)
        with _notifications_off():
            for number, payload in enumerate(contents.records, start=1):
                try:
                    record = pickle.loads(payload)
                except Exception as error:
                    reason = f"record {number} cannot be read: {type(error).__name__}: {error}"
                    raise DataError(self.log_path, reason, hint) from None
                replay.apply(record)
        replay.finish()
        if replay.failed:
            logger.warning("%s: %d of %d records did not apply again", self.log_path, replay.failed, number)
        return len(contents.records)

    # -- while running

    def append(self, record: tuple[Any, ...]) -> None:
        assert self.log is not None
        self.log.append(_dumps(record))
        if self.log.size > max(self.min_compact_bytes, self.snapshot_bytes * COMPACT_RATIO):
            self._compact_wanted.set()

    def sync(self) -> None:
        if self.log is not None:
            self.log.sync()

    def compact(self) -> None:
        """Snapshot every backend and start a new, empty log generation (blocks changes meanwhile)."""
        with self._compacting, MUTATE:
            log = self.log
            assert log is not None
            log.sync()
            started = time.monotonic()
            payload = _dumps({"moto": moto.__version__, "saved_at": time.time(), "state": capture()})
            write_snapshot(self.snapshot_path, log.generation, payload)
            self.log = WriteAheadLog.create(self.log_path, log.generation + 1)
            log.close()
            self.snapshot_bytes = len(payload)
            logger.info(
                "data snapshot: %.1f MB in %.2f s (%s)", len(payload) / 1e6, time.monotonic() - started, self.data_dir
            )

    def _compact_loop(self) -> None:
        while True:
            self._compact_wanted.wait()
            if self._closing.is_set():
                return
            self._compact_wanted.clear()
            try:
                self.compact()
            except Exception:
                logger.exception("data snapshot failed; the log keeps growing")

    def close(self, snapshot: bool = True) -> None:
        """A clean stop: snapshot (so the next start replays nothing), close the log, unlock."""
        global _store
        self._closing.set()
        self._compact_wanted.set()
        if self._compactor is not None:
            self._compactor.join()
        try:
            if snapshot and self.log is not None and self.log.size > HEADER.size:
                self.compact()
        finally:
            if _store is self:
                _store = None
            if self.log is not None:
                self.log.close()
            self._unlock()


def status_path(data_dir: Path) -> Path:
    return data_dir / "stack.json"


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Atomically (temporary file, rename): a reader sees the old file or the new one."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(value, indent=2) + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
