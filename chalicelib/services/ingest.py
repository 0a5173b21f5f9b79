"""Turning an upload into a batch: validate contacts while streaming, store them in chunks, record counts.

Three doors, one path: `POST /batches` (the body is in hand), `POST /batches/uploads` (a presigned
S3 POST; the object's arrival finishes the batch) and the drop folder (`inbox/<agent_id>/x.csv`,
with an optional `x.json` of batch options). All stream the contacts through `ContactReader`, so
memory does not grow with the file, and write them as fixed-size chunks the dispatcher reads.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from .. import clock
from ..domain import json_input
from ..domain.batch_status import BatchStatus
from ..domain.batches import BatchOptions
from ..domain.calling_rules import CallingRules
from ..domain.calling_window import contact_zones
from ..domain.contact_reader import Contact, ContactReader, RowError, Summary, read_records
from ..domain.contacts_error import ContactsError
from ..domain.json_input import JsonObject
from ..domain.records import Agent, Batch, StoredContact
from ..domain.scheduling import parse_scheduled_at
from ..domain.templates import TemplateCheck
from ..domain.uploads import check_object
from ..errors import AlreadyExists, BadRequest, Conflict, NotFound
from ..observability import count, logger
from ..resources import INBOX_PREFIX, UPLOADS_PREFIX
from ..store.dynamo import Fields
from .container import Dependencies
from .lifecycle import run_batch, schedule_batch
from .suppressed_contacts import SkipSuppressed
from .upload_expiry import schedule_upload_check
from .webhooks import emit_batch_event, validate_webhook_url

PRESIGN_SECONDS = 900


@dataclass(frozen=True)
class Upload:
    """Contacts as CSV bytes (multipart) or as records (JSON)."""

    csv_chunks: Iterable[bytes] | None = None
    records: list[Mapping[str, Any]] | None = None
    file_name: str | None = None
    raw: bytes | None = None  # kept as uploaded, for audit and re-processing


def _batch_item(
    batch_id: str,
    tenant_id: str,
    options: BatchOptions,
    agent: Agent,
    file_name: str | None,
    status: BatchStatus,
    **more: Any,
) -> Batch:
    now = clock.now_iso()
    retry = options.retry_config or agent.retry_config
    fields = {
        "batch_id": batch_id,
        "tenant_id": tenant_id,
        "agent_id": options.agent_id,
        "name": options.name,
        "status": status.value,
        "created_at": now,
        "updated_at": now,
        "file_name": file_name,
        "from_phone_numbers": options.from_phone_numbers or agent.from_phone_numbers or [],
        "webhook_url": options.webhook_url or agent.webhook_url,
        "status_webhook": options.status_webhook,
        "retry_config": retry.model_dump() if retry else None,
        "max_concurrent_calls": options.max_concurrent_calls,
        "default_region": options.default_region,
        "bypass_call_guardrails": options.bypass_call_guardrails,
        "max_spend": options.max_spend,
        **CallingRules.stored_of(options),
        "requested_start": options.scheduled_at,
        "next_pos": 0,
        "dispatched": 0,
        "finished": 0,
        "execution_status": {},
        "total_contacts": 0,
        "valid_contacts": 0,
        "invalid_contacts": 0,
        "duplicate_contacts": 0,
        **more,
    }
    return Batch.model_validate(fields)


def _counts(summary: Summary, chunks: int, chunk_size: int, suppressed: int) -> Fields:
    return {
        "total_contacts": summary.total,
        "valid_contacts": summary.valid - suppressed,
        "suppressed_contacts": suppressed,
        "invalid_contacts": summary.invalid,
        "duplicate_contacts": summary.duplicate,
        "blank_rows": summary.blank,
        "columns": summary.columns,
        "number_column": summary.number_column,
        "encoding": summary.encoding,
        "chunk_size": chunk_size,
        "chunk_count": chunks,
    }


def _response(batch: Batch) -> JsonObject:
    return {
        "batch_id": batch.batch_id,
        "state": batch.status.value,
        "total_contacts": batch.total_contacts,
        "valid_contacts": batch.valid_contacts,
        "invalid_contacts": batch.invalid_contacts,
        "duplicate_contacts": batch.duplicate_contacts,
        "suppressed_contacts": batch.suppressed_contacts,
        "warnings": batch.warnings or [],
    }


def _check_options(deps: Dependencies, options: BatchOptions) -> None:
    """Fail fast, before any work, on a bad start time or a webhook target we would refuse to call."""
    if options.scheduled_at is not None:
        parse_scheduled_at(options.scheduled_at, clock.now(), deps.settings.max_schedule_lead)
    for field in ("webhook_url", "status_webhook"):
        url = getattr(options, field)
        if url:
            validate_webhook_url(url, deps.settings, field)


def create_batch(deps: Dependencies, tenant_id: str, options: BatchOptions, upload: Upload) -> JsonObject:
    agent = deps.agents.get(tenant_id, options.agent_id)
    _check_options(deps, options)
    batch_id = uuid.uuid4().hex
    reader = (
        ContactReader(upload.csv_chunks, options.default_region)
        if upload.csv_chunks is not None
        else read_records(upload.records or [], options.default_region)
    )
    check = TemplateCheck.for_agent(agent)
    skipped = SkipSuppressed(deps.numbers, tenant_id, check.watch(reader))
    try:
        chunks = _store_contacts(deps, batch_id, skipped)
        summary = reader.summary
    except ContactsError as exc:
        raise BadRequest(exc.message, code=exc.code, details=exc.details) from None
    if upload.raw is not None:
        deps.blobs.put_raw(batch_id, upload.raw, upload.file_name)
    batch = _batch_item(
        batch_id,
        tenant_id,
        options,
        agent,
        upload.file_name,
        BatchStatus.CREATED,
        **_counts(summary, chunks, deps.settings.contacts_chunk_size, skipped.count),
        warnings=summary.warnings + check.warnings(summary.columns),
    )
    deps.batches.create(batch)
    if options.scheduled_at is not None:
        batch = schedule_batch(deps, tenant_id, batch_id, options.scheduled_at)
    return _response(batch)


def presign_upload(deps: Dependencies, tenant_id: str, options: BatchOptions, file_name: str | None) -> JsonObject:
    """A batch in `validating` and a presigned POST for its file; the object's arrival finishes it."""
    agent = deps.agents.get(tenant_id, options.agent_id)
    _check_options(deps, options)
    batch_id = uuid.uuid4().hex
    key = f"{UPLOADS_PREFIX}{tenant_id}/{batch_id}.csv"
    batch = _batch_item(batch_id, tenant_id, options, agent, file_name, BatchStatus.VALIDATING, raw_key=key)
    deps.batches.create(batch)
    emit_batch_event(deps, batch, "validating")
    limit = deps.settings.max_upload_bytes
    upload = deps.blobs.presigned_upload(key, "text/csv", limit, PRESIGN_SECONDS)
    expires_at = clock.now() + timedelta(seconds=PRESIGN_SECONDS)
    schedule_upload_check(deps, batch_id, expires_at)  # no file by then: the batch fails, never hangs
    return {
        "batch_id": batch_id,
        "state": BatchStatus.VALIDATING.value,
        "upload": upload,
        "max_bytes": limit,
        "expires_at": clock.iso(expires_at),
    }


def ingest_object(deps: Dependencies, key: str, etag: str | None) -> None:
    """The ingest queue's work: an object arrived under uploads/ or inbox/."""
    if key.startswith(UPLOADS_PREFIX):
        _ingest_upload(deps, key)
    elif key.startswith(INBOX_PREFIX) and key.lower().endswith(".csv"):
        _ingest_inbox(deps, key, etag or "")
    elif key.startswith(INBOX_PREFIX) and not key.lower().endswith(".json"):  # sidecars wait for their CSV
        _quarantine(deps, key, "only .csv files (and a .json sidecar of batch options) are read from inbox/")


def _ingest_upload(deps: Dependencies, key: str) -> None:
    parts = key[len(UPLOADS_PREFIX) :].split("/")
    batch_id = parts[-1].removesuffix(".csv") if len(parts) == 2 else ""
    batch = deps.batches.find(batch_id) if batch_id else None
    if batch is not None and batch.deleted_at and key == f"{UPLOADS_PREFIX}{batch.tenant_id}/{batch_id}.csv":
        deps.blobs.delete_keys([key])  # deleted while its file was on its way (purged, maybe): keep none of it
        return
    if batch is None or batch.raw_key != key:
        logger.warning("upload for no batch", extra={"key": key})
        return
    if batch.status != BatchStatus.VALIDATING:
        return  # a redelivered notification: the batch is already finished
    _finish(deps, batch, key)


def _ingest_inbox(deps: Dependencies, key: str, etag: str) -> None:
    agent_id = key[len(INBOX_PREFIX) :].split("/", 1)[0]
    agent = deps.agents.find_by_id(agent_id)
    if agent is None:
        _quarantine(deps, key, f"no agent {agent_id!r}: drop files into inbox/<agent_id>/")
        return
    try:
        options = BatchOptions.model_validate({**_sidecar(deps, key), "agent_id": agent_id})
        _check_options(deps, options)
    except (ValueError, ValidationError, BadRequest) as exc:
        _quarantine(deps, key, f"bad sidecar {key[:-4]}.json: {exc}")
        return
    batch_id = hashlib.sha256(f"{key}:{etag}".encode()).hexdigest()[:32]  # the same drop is the same batch
    batch = deps.batches.find(batch_id)
    if batch is None:
        file_name = key.rsplit("/", 1)[-1]
        batch = _batch_item(batch_id, agent.tenant_id, options, agent, file_name, BatchStatus.VALIDATING, raw_key=key)
        try:
            deps.batches.create(batch)
        except AlreadyExists:  # a redelivered notification for the same drop
            batch = deps.batches.require(batch_id)
        emit_batch_event(deps, batch, "validating")
    if batch.status == BatchStatus.VALIDATING:
        _finish(deps, batch, key, quarantine_on_failure=True)


def _sidecar(deps: Dependencies, key: str) -> JsonObject:
    body = deps.blobs.read_if_exists(key[:-4] + ".json")
    if body is None:
        return {}
    data = json_input.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the sidecar must be a JSON object of batch options")
    return data


def _finish(deps: Dependencies, batch: Batch, key: str, quarantine_on_failure: bool = False) -> None:
    """Stream the object into contact chunks; `validating` becomes `created` (and scheduled if asked) or `failed`."""
    batch_id = batch.batch_id
    try:
        check = TemplateCheck.for_agent(deps.agents.get(batch.tenant_id, batch.agent_id))
    except NotFound:
        check = TemplateCheck({})
    found = deps.blobs.open(key)
    try:
        check_object(found.length, found.content_type, deps.settings.max_upload_bytes)
        reader = ContactReader(found.chunks(1 << 20), batch.default_region)
        skipped = SkipSuppressed(deps.numbers, batch.tenant_id, check.watch(reader))
        chunks = _store_contacts(deps, batch_id, skipped, max_rows=deps.settings.max_rows)
        summary = reader.summary
    except ContactsError as exc:
        found.close()  # refused on its metadata: the bytes are never read
        failed = deps.batches.transition(
            batch_id,
            (BatchStatus.VALIDATING,),
            BatchStatus.FAILED,
            set_fields={"failure_reason": {"code": exc.code, "message": exc.message, "details": exc.details}},
        )
        emit_batch_event(deps, failed, "failed", {"reason": exc.code, "message": exc.message})
        if quarantine_on_failure:
            _quarantine(deps, key, f"{exc.code}: {exc.message}", exc.details)
        return
    deps.batches.transition(
        batch_id,
        (BatchStatus.VALIDATING,),
        BatchStatus.CREATED,
        set_fields={
            **_counts(summary, chunks, deps.settings.contacts_chunk_size, skipped.count),
            "warnings": summary.warnings + check.warnings(summary.columns),
        },
    )
    start = batch.requested_start
    if start:
        try:
            schedule_batch(deps, batch.tenant_id, batch_id, start)
        except BadRequest as exc:
            if exc.code == "scheduled_at_in_past":  # the start passed while the file was on its way: start now
                run_batch(deps, batch.tenant_id, batch_id)
            else:  # checked when it was asked for; only a lowered limit gets here: leave it `created`
                logger.warning("requested start refused", extra={"batch_id": batch_id, "code": exc.code})
        except Conflict:
            pass


def _quarantine(deps: Dependencies, key: str, reason: str, details: list[JsonObject] | None = None) -> None:
    """Never drop a file silently: move it aside with a reason (and its details: rows, never logged) beside it."""
    deps.blobs.quarantine(key, {"key": key, "reason": reason, "details": details or [], "at": clock.now_iso()})
    logger.warning("quarantined", extra={"key": key, "reason": reason})


def _store_contacts(deps: Dependencies, batch_id: str, items: Iterable[Contact | RowError], max_rows: int = 0) -> int:
    """Write valid contacts in fixed-size chunks and row errors to a spooled report; returns the chunk count."""
    size = deps.settings.contacts_chunk_size
    chunk: list[StoredContact] = []
    chunks = 0
    index = 0
    rows = 0
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as errors:
        for item in items:
            rows += 1
            if max_rows and rows > max_rows:
                raise ContactsError("too_many_rows", f"the file has more than {max_rows} rows (MAX_ROWS)")
            if isinstance(item, Contact):
                chunk.append(
                    {
                        "i": index,
                        "row": item.row,
                        "n": item.number,
                        "v": item.variables,
                        "z": contact_zones(item.number),
                    }
                )
                index += 1
                if len(chunk) == size:
                    deps.blobs.put_chunk(batch_id, chunks, chunk)
                    chunks, chunk = chunks + 1, []
            else:
                errors.write(json.dumps(item.as_dict(), ensure_ascii=False).encode() + b"\n")
        if chunk:
            deps.blobs.put_chunk(batch_id, chunks, chunk)
            chunks += 1
        if errors.tell():
            deps.blobs.put_errors(batch_id, errors)
    count("IngestRows", rows)
    return chunks


def errors_page(
    deps: Dependencies, tenant_id: str, batch_id: str, offset: int, limit: int
) -> tuple[list[JsonObject], str | None]:
    """The rejected rows from `offset`, at most `limit`; the cursor is the next offset, None at the end."""
    deps.batches.get(tenant_id, batch_id)
    rows = list(itertools.islice(deps.blobs.iter_errors(batch_id), offset, offset + limit + 1))
    return rows[:limit], (str(offset + limit) if len(rows) > limit else None)
