"""An agent's call history (Bolna's GET /v2/agent/{agent_id}/executions): checks, then one page from the index."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

from .. import clock
from ..domain.batches import public_execution
from ..domain.call_status import CallStatus
from ..domain.json_input import JsonObject
from ..errors import BadRequest
from ..store.agent_history import MAX_DEPTH, HistoryQuery
from .container import Dependencies

MAX_PAGE_SIZE = 50  # Bolna's maximum
DEFAULT_PAGE_SIZE = 20  # Bolna's default
MAX_ID = 200
__all__ = ["DEFAULT_PAGE_SIZE", "MAX_DEPTH", "MAX_PAGE_SIZE", "agent_history"]
STATUSES = tuple(s.value for s in CallStatus)


class HistoryPage(TypedDict):
    """Bolna's page of an agent's executions."""

    page_number: int
    page_size: int
    total: int | None  # known only on the last page
    has_more: bool
    data: list[JsonObject]  # Bolna's execution objects (domain/batches.public_execution), newest first


def agent_history(
    deps: Dependencies,
    tenant_id: str,
    agent_id: str,
    *,
    page_number: int,
    page_size: int,
    batch_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> HistoryPage:
    """Bolna's page: `page_number`, `page_size`, `total` (known only on the last page, else null),
    `has_more`, `data` (executions, newest first). Another tenant's agent is a 404."""
    deps.agents.get(tenant_id, agent_id)
    if status and status not in STATUSES:  # a typo would read as "no call has this status"
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}", code="invalid_query")
    if batch_id and len(batch_id) > MAX_ID:
        raise BadRequest(f"batch_id must be at most {MAX_ID} characters", code="invalid_query")
    lo, hi = _moment("from", since), _moment("to", until)
    if lo and hi and hi < lo:
        raise BadRequest("to must not be before from", code="invalid_query")
    query = HistoryQuery(
        tenant_id=tenant_id,
        agent_id=agent_id,
        page_number=page_number,
        page_size=page_size,
        batch_id=batch_id or None,
        status=status or None,
        since=clock.iso(lo) if lo else None,
        until=clock.iso(hi) if hi else None,
    )
    rows, has_more = deps.executions.page_for_agent(query)
    total = None
    if not has_more and (rows or page_number == 1):
        total = (page_number - 1) * page_size + len(rows)
    return {
        "page_number": page_number,
        "page_size": page_size,
        "total": total,
        "has_more": has_more,
        "data": [public_execution(e) for e in rows],
    }


def _moment(name: str, text: str | None) -> datetime | None:
    """`from` / `to`: ISO 8601 with Z or an offset, as Bolna asks ("with UTC indication")."""
    if not text:
        return None
    try:
        moment: datetime | None = clock.parse_iso(text.strip().replace(" ", "+"))
        if moment is not None and moment.tzinfo is not None:
            moment = moment.astimezone(UTC)  # year 1 or 9999 with an offset leaves the calendar: OverflowError
    except (ValueError, OverflowError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadRequest(
            f"{name} must be an ISO 8601 time with Z or an offset, e.g. 2026-05-07T00:00:00Z", code="invalid_query"
        )
    return moment
