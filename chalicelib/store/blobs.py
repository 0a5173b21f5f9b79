"""The bucket's layout for a batch: raw upload, normalized contact chunks, the row-error report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from botocore.exceptions import ClientError

from .. import aws
from ..resources import bucket_name
from ..settings import Settings


class BlobStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = bucket_name(settings)

    @staticmethod
    def raw_key(batch_id: str) -> str:
        return f"batches/{batch_id}/raw"

    @staticmethod
    def chunk_key(batch_id: str, index: int) -> str:
        return f"batches/{batch_id}/contacts/{index:06d}.jsonl"

    @staticmethod
    def errors_key(batch_id: str) -> str:
        return f"batches/{batch_id}/errors.jsonl"

    def put_raw(self, batch_id: str, body: bytes, file_name: str | None) -> None:
        aws.s3().put_object(
            Bucket=self.bucket,
            Key=self.raw_key(batch_id),
            Body=body,
            Metadata={"file-name": (file_name or "")[:200].encode("ascii", "replace").decode()},
            Tagging="kind=raw",  # the bucket's lifecycle rule expires raw uploads by this tag
        )

    def put_chunk(self, batch_id: str, index: int, records: list[dict[str, Any]]) -> None:
        body = "\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records).encode()
        aws.s3().put_object(Bucket=self.bucket, Key=self.chunk_key(batch_id, index), Body=body)

    def read_chunk(self, batch_id: str, index: int) -> list[dict[str, Any]]:
        body = aws.s3().get_object(Bucket=self.bucket, Key=self.chunk_key(batch_id, index))["Body"].read()
        return [json.loads(line) for line in body.decode().splitlines() if line]

    def put_errors(self, batch_id: str, fileobj: IO[bytes]) -> None:
        fileobj.seek(0)
        aws.s3().upload_fileobj(fileobj, self.bucket, self.errors_key(batch_id))

    def iter_errors(self, batch_id: str) -> Iterator[dict[str, Any]]:
        try:
            body = aws.s3().get_object(Bucket=self.bucket, Key=self.errors_key(batch_id))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return
            raise
        for line in body.iter_lines():
            if line:
                yield json.loads(line)
