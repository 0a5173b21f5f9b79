"""What an uploaded object must be before its bytes are read: plain rules on its size and declared type.

A presigned POST's policy already bounds both in AWS, but a drop-folder file has no policy and the
emulator ignores policies, so the ingest handler checks them itself, from the object's metadata.
"""

from __future__ import annotations

from .contacts_error import ContactsError

# Declared types a CSV arrives with: browsers and `aws s3 cp` guess text/csv, text/plain or (Windows, for
# .csv) application/vnd.ms-excel; tools that do not guess send an octet-stream or nothing. The bytes
# are judged anyway (encoding, NULs, control characters), so this only turns away what says it is
# something else (xlsx, zip, pdf, images, JSON).
CSV_CONTENT_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "text/comma-separated-values",
        "text/x-csv",
        "text/tab-separated-values",
        "application/csv",
        "application/vnd.ms-excel",
        "application/octet-stream",
        "binary/octet-stream",  # S3's default when the writer names no type
        "",
    }
)


def check_object(size: int, content_type: str | None, max_bytes: int) -> None:
    """Raise the ContactsError a batch fails with (or a drop is quarantined for), else return."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in CSV_CONTENT_TYPES:
        raise ContactsError(
            "unsupported_content_type",
            f"the file was uploaded as {kind!r}; a contacts file is CSV text (text/csv): "
            "save spreadsheets as CSV (UTF-8) first",
        )
    if size == 0:
        raise ContactsError("empty_file", "the file is empty")
    if size > max_bytes:
        raise ContactsError("file_too_large", f"the file has {size} bytes; the limit is {max_bytes} (MAX_UPLOAD_BYTES)")
