"""Turning an upload into a batch: validate contacts while streaming, store them in chunks, record counts."""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .. import clock
from ..domain.batch_status import BatchStatus
from ..domain.batches import BatchOptions
from ..domain.contacts import Contact, ContactReader, ContactsError, RowError, read_records
from ..errors import BadRequest
from .container import Services
from .lifecycle import schedule_batch


@dataclass(frozen=True)
class Upload:
    """Contacts as CSV bytes (multipart) or as records (JSON)."""

    csv_chunks: Iterable[bytes] | None = None
    records: list[Mapping[str, Any]] | None = None
    file_name: str | None = None
    raw: bytes | None = None  # kept as uploaded, for audit and re-processing


def create_batch(svc: Services, tenant_id: str, options: BatchOptions, upload: Upload) -> dict[str, Any]:
    agent = svc.agents.get(tenant_id, options.agent_id)
    now = clock.now()
    if options.scheduled_at is not None:  # fail fast, before any work, on a bad start time
        from ..domain.scheduling import parse_scheduled_at

        parse_scheduled_at(options.scheduled_at, now)
    batch_id = uuid.uuid4().hex
    reader = (
        ContactReader(upload.csv_chunks, options.default_region)
        if upload.csv_chunks is not None
        else read_records(upload.records or [], options.default_region)
    )
    try:
        stored = _store_contacts(svc, batch_id, reader)
        summary = reader.summary
    except ContactsError as exc:
        raise BadRequest(exc.message, code=exc.code) from None
    if upload.raw is not None:
        svc.blobs.put_raw(batch_id, upload.raw, upload.file_name)
    batch = {
        "batch_id": batch_id,
        "tenant_id": tenant_id,
        "agent_id": options.agent_id,
        "name": options.name,
        "status": BatchStatus.CREATED.value,
        "created_at": clock.iso(now),
        "updated_at": clock.iso(now),
        "file_name": upload.file_name,
        "from_phone_numbers": options.from_phone_numbers or agent.get("from_phone_numbers") or [],
        "webhook_url": options.webhook_url or agent.get("webhook_url"),
        "status_webhook": options.status_webhook,
        "retry_config": (options.retry_config.model_dump() if options.retry_config else agent.get("retry_config")),
        "max_concurrent_calls": options.max_concurrent_calls,
        "default_region": options.default_region,
        "bypass_call_guardrails": options.bypass_call_guardrails,
        "total_contacts": summary.total,
        "valid_contacts": summary.valid,
        "invalid_contacts": summary.invalid,
        "duplicate_contacts": summary.duplicate,
        "blank_rows": summary.blank,
        "columns": summary.columns,
        "number_column": summary.number_column,
        "encoding": summary.encoding,
        "chunk_size": svc.settings.contacts_chunk_size,
        "chunk_count": stored,
        "next_pos": 0,
        "dispatched": 0,
        "finished": 0,
        "execution_status": {},
    }
    svc.batches.create(batch)
    if options.scheduled_at is not None:
        batch = schedule_batch(svc, tenant_id, batch_id, options.scheduled_at)
    return {
        "batch_id": batch_id,
        "state": batch["status"],
        "total_contacts": summary.total,
        "valid_contacts": summary.valid,
        "invalid_contacts": summary.invalid,
        "duplicate_contacts": summary.duplicate,
    }


def _store_contacts(svc: Services, batch_id: str, items: Iterable[Contact | RowError]) -> int:
    """Write valid contacts in fixed-size chunks and row errors to a spooled report; returns the chunk count."""
    size = svc.settings.contacts_chunk_size
    chunk: list[dict[str, Any]] = []
    chunks = 0
    index = 0
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as errors:
        for item in items:
            if isinstance(item, Contact):
                chunk.append({"i": index, "row": item.row, "n": item.number, "v": item.variables})
                index += 1
                if len(chunk) == size:
                    svc.blobs.put_chunk(batch_id, chunks, chunk)
                    chunks, chunk = chunks + 1, []
            else:
                line = {"row": item.row, "reason": item.reason, "value": item.value, "message": item.message}
                errors.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
        if chunk:
            svc.blobs.put_chunk(batch_id, chunks, chunk)
            chunks += 1
        if errors.tell():
            svc.blobs.put_errors(batch_id, errors)  # type: ignore[arg-type]
    return chunks


def execution_id(batch_id: str, contact_index: int, attempt: int) -> str:
    """Deterministic, so a redelivered dispatch step names the same executions and cannot duplicate them."""
    return hashlib.sha256(f"{batch_id}:{contact_index}:{attempt}".encode()).hexdigest()[:32]


def iter_errors(svc: Services, tenant_id: str, batch_id: str) -> Iterator[dict[str, Any]]:
    svc.batches.get(tenant_id, batch_id)
    return svc.blobs.iter_errors(batch_id)
