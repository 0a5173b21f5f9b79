"""The executions CSV: inline when small, else streamed to S3 and handed over as a short-lived presigned URL.

API Gateway takes at most 10 MB and Lambda returns at most 6 MB, and a million executions is far
more; so the rows are written as they are read, in parts of a multipart upload once the export is
too large to answer inline. Memory holds one part (8 MiB) and one page of the query, whatever the
batch size. API Gateway also cuts a request off at 29 s, so batches above EXPORT_SYNC_MAX_ROWS are
exported by the `exporter` function in the background: the request answers 202 (preparing) until
the file is ready, then 303 to it. One export runs per batch at a time (a token on the batch).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .. import clock
from ..domain.batches import spreadsheet_safe
from ..domain.extraction import ExtractionField, parse_schema
from ..domain.messages import ExportMessage
from ..domain.records import Batch, Execution
from ..errors import NotFound
from ..resources import EXPORTS_PREFIX, EXPORTS_QUEUE
from ..store.blobs import BlobStore, MultipartFile
from .container import Dependencies

OUTCOME_COLUMNS = (
    "status",
    "attempt",
    "conversation_duration",
    "total_cost",
    "answered_by_voice_mail",
    "hangup_reason",
    "error_message",
    "execution_id",
    "updated_at",
)
INLINE_MAX_BYTES = 4 * 1024 * 1024  # below Lambda's 6 MB response, with room for the proxy envelope
PART_BYTES = 8 * 1024 * 1024  # S3 parts are 5 MiB at least (but the last)
URL_SECONDS = 300
STALE_AFTER = timedelta(minutes=20)  # a background export not done by then is started again
FRESH_FOR = timedelta(seconds=60)  # a running batch's finished export is served this long before a new one


@dataclass(frozen=True)
class Export:
    """The CSV itself (`body`), where to fetch it (`url`, until `expires_at`), or still `preparing` since `since`."""

    file_name: str
    body: str | None = None
    url: str | None = None
    expires_at: str | None = None
    preparing: bool = False
    since: str | None = None
    key: str | None = None  # the S3 object, when written there (`url` presigns it)


def executions_csv(deps: Dependencies, tenant_id: str, batch_id: str) -> Export:
    batch = deps.batches.get(tenant_id, batch_id)  # another tenant's batch is a 404, before any work
    rows = int(batch.dispatched or 0) + int(batch.unreached or 0)  # + canceled, never dialled
    if rows <= deps.settings.export_sync_max_rows:
        written = _write(deps, batch, deps.settings.export_inline_max_rows)
        return written if written.key is None else _presigned(deps.blobs, written.key, written.file_name)
    return _in_background(deps, batch)


def _file_name(batch_id: str) -> str:
    return f"{batch_id}-executions.csv"


def _write(deps: Dependencies, batch: Batch, inline_max_rows: int) -> Export:
    batch_id, tenant_id = batch.batch_id, batch.tenant_id
    key = f"{EXPORTS_PREFIX}{tenant_id}/{batch_id}/{clock.now().strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}.csv"
    sink = _Sink(deps.blobs, key, _file_name(batch_id), inline_max_rows)
    try:
        for row in _rows(batch, deps.executions.iter_batch(batch_id), _schema(deps, batch)):
            sink.row(row)
        return sink.finish()
    except BaseException:
        sink.abort()
        raise


def rows_csv(deps: Dependencies, tenant_id: str, batch_id: str, file_name: str, rows: Iterable[list[str]]) -> Export:
    """Any other CSV of a batch (the plan's), by the same rule: inline when small, else S3 and a presigned URL."""
    key = f"{EXPORTS_PREFIX}{tenant_id}/{batch_id}/{clock.now().strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}.csv"
    sink = _Sink(deps.blobs, key, file_name, deps.settings.export_inline_max_rows)
    try:
        for row in rows:
            sink.row(row)
        written = sink.finish()
    except BaseException:
        sink.abort()
        raise
    return written if written.key is None else _presigned(deps.blobs, written.key, file_name)


def _presigned(blobs: BlobStore, key: str, file_name: str) -> Export:
    url = blobs.presigned_get(key, URL_SECONDS)
    return Export(file_name, url=url, expires_at=clock.iso(clock.now() + timedelta(seconds=URL_SECONDS)), key=key)


def _in_background(deps: Dependencies, batch: Batch) -> Export:
    """Serve the last export if it is current, else start one (unless one is under way) and say so."""
    now = clock.now()
    done = batch.csv_export or {}
    if done.get("key") and (
        done["started_at"] >= batch.updated_at or clock.parse_iso(done["finished_at"]) > now - FRESH_FOR
    ):
        return _presigned(deps.blobs, done["key"], _file_name(batch.batch_id))
    started = batch.csv_export_started_at
    if started and clock.parse_iso(started) > now - STALE_AFTER and started > done.get("started_at", ""):
        return Export(_file_name(batch.batch_id), preparing=True, since=started)
    token, since = uuid.uuid4().hex, clock.iso(now)
    if deps.batches.start_export(batch.batch_id, batch.csv_export_token, token, since):
        deps.queues.send(EXPORTS_QUEUE, ExportMessage.of(batch.batch_id, token))
    return Export(_file_name(batch.batch_id), preparing=True, since=since)


def export_in_background(deps: Dependencies, batch_id: str, token: str) -> None:
    """The exporter's job: write the whole CSV to S3 and record it on the batch, if still the current request."""
    batch = deps.batches.find(batch_id)
    if batch is None or batch.csv_export_token != token:
        return  # superseded by a newer request, or the batch is gone
    started = batch.csv_export_started_at
    written = _write(deps, batch, inline_max_rows=-1)
    deps.batches.finish_export(
        batch_id, token, {"key": written.key, "started_at": started, "finished_at": clock.now_iso()}
    )


def _schema(deps: Dependencies, batch: Batch) -> list[ExtractionField]:
    """The agent's extraction fields as they are now (a deleted agent's: none, its data stays in the API)."""
    try:
        return parse_schema(deps.agents.get(batch.tenant_id, batch.agent_id).extraction_schema)
    except NotFound:
        return []


def _rows(batch: Batch, executions: Iterable[Execution], schema: Sequence[ExtractionField] = ()) -> Iterable[list[str]]:
    """The header, then one row per execution: the number, the input columns, the outcome columns, the summary
    and one column per extraction field (named `extracted_<name>` when an input column has its name)."""
    columns = [c for c in batch.columns or [] if c != batch.number_column]
    taken = {"contact_number", *columns, *OUTCOME_COLUMNS, "summary"}
    extracted = [f.name for f in schema]
    headers = [f"extracted_{name}" if name in taken else name for name in extracted]
    yield [spreadsheet_safe(c) for c in ("contact_number", *columns, *OUTCOME_COLUMNS, "summary", *headers)]
    for execution in executions:
        data = execution.recipient_data or {}
        answers = execution.extracted_data or {}
        row = [
            execution.user_number,
            *(data.get(c) for c in columns),
            *(getattr(execution, c, None) for c in OUTCOME_COLUMNS),
            execution.summary,
            *(_cell(answers.get(name)) for name in extracted),
        ]
        yield [spreadsheet_safe(cell) for cell in row]


def _cell(value: Any) -> Any:
    """Booleans as JSON writes them (true/false), like the API; the rest as text."""
    return ("true" if value else "false") if isinstance(value, bool) else value


class _Buffer:
    """What csv.writer writes into: UTF-8 bytes, emptied part by part."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, text: str) -> int:
        self.data += text.encode("utf-8")
        return len(text)


class _Sink:
    """Rows in; inline bytes out while small, else a multipart upload to S3 fed part by part."""

    CONTENT_TYPE = "text/csv; charset=utf-8"

    def __init__(self, blobs: BlobStore, key: str, file_name: str, inline_max_rows: int) -> None:
        self.blobs, self.key, self.file_name = blobs, key, file_name
        self.disposition = f'attachment; filename="{file_name}"'
        self.inline_max_rows = inline_max_rows
        self.buffer = _Buffer()
        self.writer = csv.writer(self.buffer)
        self.rows = -1  # the header is not an execution
        self.upload: MultipartFile = blobs.multipart(key, self.CONTENT_TYPE, self.disposition)

    @property
    def inline(self) -> bool:
        return (
            self.upload.upload_id is None
            and self.rows <= self.inline_max_rows
            and len(self.buffer.data) <= INLINE_MAX_BYTES
        )

    def row(self, cells: list[str]) -> None:
        self.writer.writerow(cells)
        self.rows += 1
        if len(self.buffer.data) >= PART_BYTES:
            self._flush()

    def _flush(self) -> None:
        self.upload.put_part(bytes(self.buffer.data))
        self.buffer.data = bytearray()

    def finish(self) -> Export:
        if self.inline:
            return Export(self.file_name, body=self.buffer.data.decode("utf-8"))
        if self.upload.upload_id is None:  # large by rows, small in bytes: one request
            self.blobs.put_file(self.key, bytes(self.buffer.data), self.CONTENT_TYPE, self.disposition)
        else:
            if self.buffer.data:
                self._flush()
            self.upload.complete()
        return Export(self.file_name, key=self.key)

    def abort(self) -> None:
        self.upload.abort()
