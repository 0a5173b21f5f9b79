"""The files side of an erasure: each batch whose executions of the number were erased also holds the number
in S3. Its contact chunks get the contact masked (number masked, variables emptied: the contact was
dispatched, as its execution exists, so nothing reads it again), rows of its row-error report that hold
the number are masked, its original file is deleted, and its CSV exports written before are deleted
(never served again). Bounded steps: up to FILE_CHUNKS chunks each; masking what is masked changes nothing.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

from ..domain.executions import number_key
from ..domain.messages import ControlMessage
from ..domain.numbers import InvalidNumber, mask_number, normalize_number
from ..domain.records import Batch
from ..resources import CONTROL_QUEUE, EXPORTS_PREFIX
from ..store.blobs import BlobStore
from .container import Dependencies

FILE_CHUNKS = 20  # contact chunks rewritten per step (2,000 contacts each by default)


def erase_files_step(deps: Dependencies, tenant_id: str, erasure_id: str, batch_id: str, pos: int) -> None:
    erasure = deps.erasures.find(tenant_id, erasure_id)
    if erasure is None or erasure.status != "running" or erasure.number_key is None:
        return
    batches = sorted(erasure.batches)
    if not batch_id:
        batch_id, pos = (batches[0], 0) if batches else ("", 0)
    batch = deps.batches.find(batch_id) if batch_id else None
    if batch is not None and batch.tenant_id == tenant_id and not batch.deleted_at:
        key = erasure.number_key
        end = min(pos + FILE_CHUNKS, batch.chunk_count or 0)
        for index in range(pos, end):
            _mask_chunk(deps, batch_id, index, tenant_id, key)
        if end < (batch.chunk_count or 0):
            deps.queues.send(CONTROL_QUEUE, ControlMessage.erase_files(tenant_id, erasure_id, batch_id, end))
            return
        _mask_errors(deps, batch, key)
        deps.blobs.delete_keys([BlobStore.raw_key(batch_id), *([batch.raw_key] if batch.raw_key else [])])
        _forget_exports(deps, tenant_id, batch_id)
    following = next((b for b in batches if b > batch_id), None) if batch_id else None
    if following is not None:
        deps.queues.send(CONTROL_QUEUE, ControlMessage.erase_files(tenant_id, erasure_id, following, 0))
    else:
        deps.erasures.finish(tenant_id, erasure_id)


def _mask_chunk(deps: Dependencies, batch_id: str, index: int, tenant_id: str, key: str) -> None:
    records = deps.blobs.read_chunk(batch_id, index)
    found = False
    for record in records:
        if number_key(tenant_id, str(record.get("n", ""))) == key:
            record["n"] = mask_number(record["n"])
            record["v"] = {}
            found = True
    if found:
        deps.blobs.put_chunk(batch_id, index, records)


def _mask_errors(deps: Dependencies, batch: Batch, key: str) -> None:
    """Rows skipped as duplicates (or with an extension) keep the number as written: mask those."""
    found = False
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as rewritten:
        for row in deps.blobs.iter_errors(batch.batch_id):
            if _holds(row.get("value"), batch, key):
                row["value"] = mask_number(normalize_number(str(row["value"]), batch.default_region))
                found = True
            rewritten.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
        if found:
            deps.blobs.put_errors(batch.batch_id, rewritten)


def _holds(value: Any, batch: Batch, key: str) -> bool:
    if not value:
        return False
    try:
        return number_key(batch.tenant_id, normalize_number(str(value), batch.default_region)) == key
    except InvalidNumber:
        return False


def _forget_exports(deps: Dependencies, tenant_id: str, batch_id: str) -> None:
    """CSV exports written before the erasure still hold the number: delete them, and never serve the record."""
    deps.batches.forget_export(batch_id)
    while deps.blobs.delete_prefix(f"{EXPORTS_PREFIX}{tenant_id}/{batch_id}/"):
        pass
