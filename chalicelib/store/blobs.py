"""The bucket: a batch's raw upload, normalized contact chunks and row-error report; uploads and the
inbox (presigned posts, sidecars, quarantine); exported CSVs (whole, or part by part). Every S3 call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from .. import aws
from ..domain.json_input import JsonObject
from ..domain.records import StoredContact
from ..resources import QUARANTINE_PREFIX, bucket_name
from ..settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404")


@dataclass
class StoredObject:
    """An object opened for streaming: its metadata now, its bytes as they are read (`close` if never read)."""

    length: int
    content_type: str | None
    _body: Any

    def chunks(self, size: int) -> Iterator[bytes]:
        return self._body.iter_chunks(size)

    def close(self) -> None:
        self._body.close()


class MultipartFile:
    """One object written part by part (each part 5 MiB at least, but the last); started on the first part."""

    def __init__(self, bucket: str, key: str, content_type: str, disposition: str) -> None:
        self.bucket, self.key = bucket, key
        self._content_type, self._disposition = content_type, disposition
        self.upload_id: str | None = None
        self.parts: list[CompletedPartTypeDef] = []

    def put_part(self, data: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = aws.s3().create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self._content_type, ContentDisposition=self._disposition
            )["UploadId"]
        number = len(self.parts) + 1
        etag = aws.s3().upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )["ETag"]
        self.parts.append({"PartNumber": number, "ETag": etag})

    def complete(self) -> None:
        assert self.upload_id is not None
        aws.s3().complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
        )
        self.upload_id = None

    def abort(self) -> None:
        if self.upload_id is not None:
            aws.s3().abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            self.upload_id = None


class BlobStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = bucket_name(settings)
        self._browser_origins: tuple[str, ...] | None = None

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

    def put_chunk(self, batch_id: str, index: int, records: list[StoredContact]) -> None:
        body = "\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records).encode()
        aws.s3().put_object(Bucket=self.bucket, Key=self.chunk_key(batch_id, index), Body=body)

    def read_chunk(self, batch_id: str, index: int) -> list[StoredContact]:
        """One JSON line per contact, split on "\n" only (a value may hold U+2028 or NEL, which JSON writes as
        they are and `splitlines` would cut at), parsed as one array: one call, not one per contact."""
        body = aws.s3().get_object(Bucket=self.bucket, Key=self.chunk_key(batch_id, index))["Body"].read()
        records: list[StoredContact] = json.loads(
            "[" + ",".join(line for line in body.decode().split("\n") if line) + "]"
        )
        return records

    def put_errors(self, batch_id: str, fileobj: IO[bytes]) -> None:
        fileobj.seek(0)
        aws.s3().upload_fileobj(fileobj, self.bucket, self.errors_key(batch_id))

    def iter_errors(self, batch_id: str) -> Iterator[JsonObject]:
        try:
            body = aws.s3().get_object(Bucket=self.bucket, Key=self.errors_key(batch_id))["Body"]
        except ClientError as exc:
            if _missing(exc):
                return
            raise
        for line in body.iter_lines():
            if line:
                yield json.loads(line)

    def delete_prefix(self, prefix: str) -> bool:
        """Delete up to 1,000 objects under `prefix` (a purge); True when more may remain."""
        listed = aws.s3().list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1000)
        keys = [obj["Key"] for obj in listed.get("Contents", [])]
        self.delete_keys(keys)
        return bool(listed.get("IsTruncated"))

    def delete_keys(self, keys: list[str]) -> None:
        """Delete these objects (absent ones are fine), up to 1,000 per request."""
        for start in range(0, len(keys), 1000):
            objects: Any = [{"Key": key} for key in keys[start : start + 1000]]
            result = aws.s3().delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
            if result.get("Errors"):
                raise RuntimeError(f"S3 refused to delete {len(result['Errors'])} objects")

    # Uploads and the inbox

    def presigned_upload(self, key: str, content_type: str, max_bytes: int, seconds: int) -> JsonObject:
        """A presigned POST for one object of this type and at most this size: {"url", "fields"}."""
        post = aws.s3().generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=seconds,
        )
        return {"url": post["url"], "fields": post["fields"]}

    def read_if_exists(self, key: str) -> bytes | None:
        try:
            return aws.s3().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def exists(self, key: str) -> bool:
        try:
            aws.s3().head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def open(self, key: str) -> StoredObject:
        found = aws.s3().get_object(Bucket=self.bucket, Key=key)
        return StoredObject(found.get("ContentLength", 0), found.get("ContentType"), found["Body"])

    def quarantine(self, key: str, reason: JsonObject) -> None:
        """Move an object aside under quarantine/, with the reason beside it as JSON."""
        target = QUARANTINE_PREFIX + key
        s3 = aws.s3()
        s3.copy_object(Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key})
        s3.put_object(
            Bucket=self.bucket,
            Key=target + ".reason.json",
            Body=json.dumps(reason).encode(),
            ContentType="application/json",
        )
        s3.delete_object(Bucket=self.bucket, Key=key)

    def browser_origins(self) -> tuple[str, ...]:
        """The origins of presigned upload (POST) and export (GET) URLs, for a page's CSP; signing needs no network.

        Worked out once per store (the services are built once per process, or per stack or test)."""
        if self._browser_origins is None:
            self._browser_origins = self._sign_origins()
        return self._browser_origins

    def _sign_origins(self) -> tuple[str, ...]:
        client = aws.s3()
        try:
            urls = [
                client.generate_presigned_post(Bucket=self.bucket, Key="uploads/probe.csv")["url"],
                client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": "probe"}),
            ]
        except Exception:  # no region or credentials configured: fall back to AWS's S3 hosts
            return ("https://*.amazonaws.com",)
        origins: list[str] = []
        for url in urls:
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
        return tuple(origins)

    # Exports

    def presigned_get(self, key: str, seconds: int) -> str:
        return aws.s3().generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
        )

    def put_file(self, key: str, body: bytes, content_type: str, disposition: str) -> None:
        aws.s3().put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, ContentDisposition=disposition
        )

    def multipart(self, key: str, content_type: str, disposition: str) -> MultipartFile:
        return MultipartFile(self.bucket, key, content_type, disposition)
