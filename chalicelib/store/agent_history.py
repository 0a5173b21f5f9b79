"""An agent's call history: its executions newest first, by page number, from the by_agent index.

Bolna pages this listing by `page_number` and `page_size`, i.e. by offset; DynamoDB has no
offset, so a page is reached by reading past the executions before it. That skip only counts
(`Select=COUNT`: nothing is sent back) and is bounded: a page must end within MAX_DEPTH
matching executions, and one request examines at most MAX_EXAMINED index entries. The index is
KEYS_ONLY (see resources.Index), so filters on batch or status are applied to the items read
behind its entries (100 per BatchGetItem), and a filtered skip reads what it skips. Past either
bound the answer is a 400 that says to narrow the time range with `from` / `to`, which are key
conditions (read nothing outside).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import aws
from ..errors import BadRequest
from .dynamo import BATCH_GET_KEYS, Fields, KeysPage, Request, query_keys_page, values
from .execution_item import decode

INDEX = "by_agent_keys"  # KEYS_ONLY: entries are keys, the items are read by key (resources.Index)
KEY = ("execution_id",)  # the executions table's key: what an entry holds to read its execution by
MAX_DEPTH = 10_000  # page_number * page_size
MAX_EXAMINED = 50_000  # index entries read by one request (filters make this more than MAX_DEPTH)
SKIP_CHUNK = 1_000
AFTER_ANY_ID = "$"  # sorts after "<time>#<id>" for the same time: makes `to` inclusive


def agent_key(tenant_id: str, agent_id: str) -> str:
    return f"{tenant_id}#{agent_id}"


def agent_sort(created_at: str, execution_id: str) -> str:
    return f"{created_at}#{execution_id}"


@dataclass(frozen=True)
class HistoryQuery:
    tenant_id: str
    agent_id: str
    page_number: int
    page_size: int
    batch_id: str | None = None
    status: str | None = None
    since: str | None = None  # created_at >= since (ISO 8601 in clock.iso's form)
    until: str | None = None  # created_at <= until


def history_page(table: str, query: HistoryQuery) -> tuple[list[Fields], bool]:
    """The page's executions and whether more follow it."""
    if query.page_number * query.page_size > MAX_DEPTH:
        raise _too_deep(f"page_number * page_size must be at most {MAX_DEPTH}")
    request = _request(table, query)
    budget = [MAX_EXAMINED]
    keep = _filter(query)
    skip = (query.page_number - 1) * query.page_size
    start: Any = None
    if keep is None:  # no filter: skip by counting index entries, nothing read behind them
        start, skip = _skip(request, skip, budget), 0
        if start is _END:
            return [], False
    found: list[Fields] = []
    want = query.page_size + 1  # one more than the page: has_more without a second round
    while len(found) < want:
        need = skip + want - len(found)
        page = _page(request, start, need if keep is None else min(SKIP_CHUNK, max(BATCH_GET_KEYS, need)), budget)
        for item in map(decode, page.items):  # the stored form's names (store/execution_item.py) read back
            if keep is not None and not keep(item):
                continue
            if skip:
                skip -= 1
            else:
                found.append(item)
        start = page.last_key
        if not start:
            break
    return found[: query.page_size], len(found) > query.page_size


def _filter(query: HistoryQuery) -> Callable[[Fields], bool] | None:
    """The batch and status filters, applied to the items read behind the KEYS_ONLY index's entries."""
    if not query.batch_id and not query.status:
        return None
    return lambda item: (not query.batch_id or item.get("batch_id") == query.batch_id) and (
        not query.status or item.get("status") == query.status
    )


_END: Any = object()


def _skip(request: Request, count: int, budget: list[int]) -> Any:
    """Read past `count` matching entries (counted, none sent back); the key to go on from, or _END."""
    start: Any = None
    counting = {**request, "Select": "COUNT"}
    while count > 0:
        page = _query(counting, start, min(count, SKIP_CHUNK), budget)
        count -= int(page.get("Count", 0))
        start = page.get("LastEvaluatedKey")
        if not start:
            return _END  # fewer executions than the pages before this one hold
    return start


def _query(request: Request, start: Any, limit: int, budget: list[int]) -> Fields:
    """One counting Query (`Select=COUNT`) within the budget of entries examined."""
    page: Any = aws.dynamodb().query(**_bounded(request, start, limit, budget))
    budget[0] -= int(page.get("ScannedCount", 0))
    return page


def _page(request: Request, start: Any, limit: int, budget: list[int]) -> KeysPage:
    """One page of entries within the budget, with the executions behind them."""
    page = query_keys_page(KEY, **_bounded(request, start, limit, budget))
    budget[0] -= page.scanned
    return page


def _bounded(request: Request, start: Any, limit: int, budget: list[int]) -> Request:
    if budget[0] <= 0:
        raise _too_deep(f"this page needs more than {MAX_EXAMINED} executions read")
    return {**request, "Limit": min(limit, budget[0]), **({"ExclusiveStartKey": start} if start else {})}


def _request(table: str, query: HistoryQuery) -> Request:
    condition = "agent_key = :k"
    vals = values(k=agent_key(query.tenant_id, query.agent_id))
    if query.since and query.until:
        condition += " AND agent_sort BETWEEN :lo AND :hi"
        vals.update(values(lo=query.since, hi=query.until + AFTER_ANY_ID))
    elif query.since:
        condition += " AND agent_sort >= :lo"
        vals.update(values(lo=query.since))
    elif query.until:
        condition += " AND agent_sort <= :hi"
        vals.update(values(hi=query.until + AFTER_ANY_ID))
    return {
        "TableName": table,
        "IndexName": INDEX,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": vals,
        "ScanIndexForward": False,  # newest first, as Bolna lists them
    }


def _too_deep(why: str) -> BadRequest:
    return BadRequest(
        f"{why}: narrow the time range with from / to (or filter by batch_id) and page within it",
        code="history_too_deep",
    )
