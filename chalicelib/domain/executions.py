"""An execution record, built in one place: the first attempt (dispatch) and every retry."""

from __future__ import annotations

import hashlib
from typing import Any

from .call_status import CallStatus
from .json_input import JsonObject
from .records import Batch, Execution


def execution_id(batch_id: str, contact_index: int, attempt: int) -> str:
    """Deterministic, so a redelivered dispatch step names the same executions and cannot duplicate them."""
    return hashlib.sha256(f"{batch_id}:{contact_index}:{attempt}".encode()).hexdigest()[:32]


def number_key(tenant_id: str, user_number: str) -> str:
    """The by_number_keys index's key: one tenant's number, hashed so the index names no number in clear."""
    return hashlib.sha256(f"{tenant_id}#{user_number}".encode()).hexdigest()[:40]


def new_execution(
    owner: Batch | Execution,
    *,
    contact_index: int,
    row: Any,
    user_number: str,
    from_number: str | None,
    recipient_data: JsonObject,
    attempt: int,
    now: str,
    **more: Any,
) -> Execution:
    """A `queued` attempt of one contact of `owner`'s batch (the batch, or the contact's last attempt)."""
    return Execution(
        execution_id=execution_id(owner.batch_id, contact_index, attempt),
        batch_id=owner.batch_id,
        tenant_id=owner.tenant_id,
        agent_id=owner.agent_id,
        seq=f"{contact_index:09d}#{attempt:02d}",
        contact_index=contact_index,
        row=row,
        status=CallStatus.QUEUED,
        user_number=user_number,
        number_key=number_key(owner.tenant_id, user_number),
        from_number=from_number,
        attempt=attempt,
        retry_count=attempt - 1,
        recipient_data=recipient_data,
        created_at=now,
        updated_at=now,
        **more,
    )
