"""The emulator's HTTP side of the data directory: which requests change state, logging them, replaying them.

DynamoDB, S3, Scheduler and SQS's queue-level calls are deterministic given the state and the
order, so a mutating request that succeeded is logged as it came (method, path, headers, body)
and replayed through moto at start. `DurableApp` applies it and appends it under `MUTATE` (the
log's order is the order of application), then, for every request, waits until everything
appended so far is fsynced before it answers. SQS message calls are logged by `persist_sqs`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .persist_core import MUTATE

if TYPE_CHECKING:
    from .persist import Store

logger = logging.getLogger(__name__)

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
_SQS_MESSAGE_CALLS = {  # their effects are logged by the hooks of persist_sqs, not the requests
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


class RequestReplay:
    """Replays logged requests through moto's WSGI app, mapping the S3 multipart upload ids it generates anew."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.upload_ids: dict[str, str] = {}
        self.failed = 0

    def apply(
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


@contextlib.contextmanager
def notifications_off() -> Iterator[None]:
    """A replayed S3 upload must not send its notification again: the message is in the log already."""
    from moto.s3 import notifications

    saved = notifications.send_event, notifications.send_test_event
    notifications.send_event = lambda *args, **kwargs: None
    notifications.send_test_event = lambda *args, **kwargs: None
    try:
        yield
    finally:
        notifications.send_event, notifications.send_test_event = saved
