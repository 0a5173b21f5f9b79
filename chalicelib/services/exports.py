"""The executions CSV: inline when small, else streamed to S3 and handed over as a short-lived presigned URL.

API Gateway takes at most 10 MB and Lambda returns at most 6 MB, and a million executions is far
more; so the rows are written as they are read, in parts of a multipart upload once the export is
too large to answer inline. Memory holds one part (8 MiB) and one page of the query, whatever the
batch size.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .. import aws, clock
from ..domain.batches import spreadsheet_safe
from ..resources import EXPORTS_PREFIX
from .container import Services

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

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


@dataclass(frozen=True)
class Export:
    """Either the CSV itself (`body`) or where to fetch it (`url`, until `expires_at`)."""

    file_name: str
    body: str | None = None
    url: str | None = None
    expires_at: str | None = None


def executions_csv(svc: Services, tenant_id: str, batch_id: str) -> Export:
    batch = svc.batches.get(tenant_id, batch_id)  # another tenant's batch is a 404, before any work
    file_name = f"{batch_id}-executions.csv"
    key = f"{EXPORTS_PREFIX}{tenant_id}/{batch_id}/{clock.now().strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}.csv"
    sink = _Sink(svc.blobs.bucket, key, file_name, svc.settings.export_inline_max_rows)
    try:
        for row in _rows(batch, svc.executions.iter_batch(batch_id)):
            sink.row(row)
        return sink.finish()
    except BaseException:
        sink.abort()
        raise


def _rows(batch: dict[str, Any], executions: Iterable[dict[str, Any]]) -> Iterable[list[str]]:
    """The header, then one row per execution: the number, the input columns, the outcome columns."""
    columns = [c for c in batch.get("columns") or [] if c != batch.get("number_column")]
    yield [spreadsheet_safe(c) for c in ("contact_number", *columns, *OUTCOME_COLUMNS)]
    for execution in executions:
        data = execution.get("recipient_data") or {}
        row = [
            execution.get("user_number"),
            *(data.get(c) for c in columns),
            *(execution.get(c) for c in OUTCOME_COLUMNS),
        ]
        yield [spreadsheet_safe(cell) for cell in row]


class _Buffer:
    """What csv.writer writes into: UTF-8 bytes, emptied part by part."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, text: str) -> int:
        self.data += text.encode("utf-8")
        return len(text)


class _Sink:
    """Rows in; inline bytes out while small, else a multipart upload to S3 fed part by part."""

    def __init__(self, bucket: str, key: str, file_name: str, inline_max_rows: int) -> None:
        self.bucket, self.key, self.file_name = bucket, key, file_name
        self.inline_max_rows = inline_max_rows
        self.buffer = _Buffer()
        self.writer = csv.writer(self.buffer)
        self.rows = -1  # the header is not an execution
        self.upload_id: str | None = None
        self.parts: list[CompletedPartTypeDef] = []

    @property
    def inline(self) -> bool:
        return (
            self.upload_id is None and self.rows <= self.inline_max_rows and len(self.buffer.data) <= INLINE_MAX_BYTES
        )

    def row(self, cells: list[str]) -> None:
        self.writer.writerow(cells)
        self.rows += 1
        if len(self.buffer.data) >= PART_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self.upload_id is None:
            self.upload_id = aws.s3().create_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                ContentType="text/csv; charset=utf-8",
                ContentDisposition=f'attachment; filename="{self.file_name}"',
            )["UploadId"]
        number = len(self.parts) + 1
        etag = aws.s3().upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=bytes(self.buffer.data)
        )["ETag"]
        self.parts.append({"PartNumber": number, "ETag": etag})
        self.buffer.data = bytearray()

    def finish(self) -> Export:
        if self.inline:
            return Export(self.file_name, body=self.buffer.data.decode("utf-8"))
        if self.upload_id is None:  # large by rows, small in bytes: one request
            aws.s3().put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=bytes(self.buffer.data),
                ContentType="text/csv; charset=utf-8",
                ContentDisposition=f'attachment; filename="{self.file_name}"',
            )
        else:
            if self.buffer.data:
                self._flush()
            aws.s3().complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
            )
            self.upload_id = None
        url = aws.s3().generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.key}, ExpiresIn=URL_SECONDS
        )
        return Export(self.file_name, url=url, expires_at=clock.iso(clock.now() + timedelta(seconds=URL_SECONDS)))

    def abort(self) -> None:
        if self.upload_id is not None:
            aws.s3().abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            self.upload_id = None
