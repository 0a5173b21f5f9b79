"""The audit log's use cases: record a change an API key made, and list them.

Recorded in one place, the API edge (`api/http.py`'s `endpoint(..., audit=...)`), after the change
succeeded: the changes are conditional writes in several stores, several of them more than one
write (a stop also cancels a schedule and queues its cancel walk), so one shared transaction would
scatter the audit through every store. The cost is a small window: a function that dies between
the change and its entry loses the entry (the request id is still in API Gateway's access log).
A refused change (any 4xx) is never recorded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .. import clock
from ..domain.audit import AuditEntry
from ..observability import mask_phone_numbers
from .container import Dependencies

ACTIONS = (
    "agent.created",
    "agent.updated",
    "agent.deleted",
    "batch.created",
    "batch.scheduled",
    "batch.run",
    "batch.paused",
    "batch.resumed",
    "batch.stopped",
    "batch.deleted",
    "erasure.requested",
    "webhook_secret.rotated",
    "suppression.added",
    "suppression.removed",
)
ENTRY_FIELDS = ("action", "target", "key_label", "request_id", "at")


@dataclass(frozen=True)
class Change:
    """What one route changes: `action`, on the target `<kind>:<id>` whose id is the path parameter
    `param` or, for a create, the field `field` of the answer (neither: the tenant itself, e.g. its secret).
    `masked`: the id is a phone number, kept masked (the log is append-only, so an erasure could not reach it)."""

    action: str
    kind: str
    param: str | None = None
    field: str | None = None
    masked: bool = False


def target(kind: str, target_id: str | None, masked: bool = False) -> str:
    if target_id and masked:  # a number from a path may still be URL-encoded (`%2B` for `+`)
        target_id = mask_phone_numbers(unquote(target_id))
    return f"{kind}:{target_id}" if target_id else kind


def record(deps: Dependencies, tenant_id: str, key_label: str, request_id: str, action: str, target_name: str) -> None:
    now = clock.now_iso()
    entry_id = uuid.uuid4().hex
    deps.audit.append(
        AuditEntry(
            tenant_id=tenant_id,
            entry_key=f"{now}#{entry_id}",
            entry_id=entry_id,
            action=action,
            target=target_name,
            key_label=key_label,
            request_id=request_id,
            at=now,
        )
    )


def public_entry(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.entry_id, **{name: getattr(entry, name) for name in ENTRY_FIELDS}}
