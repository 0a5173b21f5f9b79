"""GET /v2/agent/{agent_id}/executions: Bolna's agent history, paged by number from the by_agent index."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.call_status import CallStatus
from chalicelib.domain.executions import new_execution
from chalicelib.services.container import Dependencies
from chalicelib.store import agent_history
from tests.support.batches import make_batch

URL = "/v2/agent/{agent}/executions"


def seed_executions(
    deps: Dependencies, tenant_id: str, agent_id: str, batch_id: str, n: int, *, status: str = "queued", minute: int = 0
) -> None:
    """`n` executions of one batch, ten per creation time (ties are ordered by id), in 99-item transactions."""
    batch = deps.batches.find(batch_id)
    assert batch is not None and (batch.tenant_id, batch.agent_id) == (tenant_id, agent_id)
    rows = []
    for i in range(n):
        at = minute + i // 10  # minutes after midnight
        execution = new_execution(
            batch,
            contact_index=i,
            row=i + 2,
            user_number=f"+1202555{i:04d}",
            from_number=None,
            recipient_data={},
            attempt=1,
            now=f"2026-11-01T{at // 60:02d}:{at % 60:02d}:00.000Z",
        )
        rows.append(execution.model_copy(update={"status": CallStatus(status)}))
    for start in range(0, n, 99):
        assert deps.executions.create_many(batch_id, rows[start : start + 99])


def get(client: Client, key: str, agent_id: str, query: str = "") -> Any:
    response = client.http.get(URL.format(agent=agent_id) + query, headers={"Authorization": f"Bearer {key}"})
    return response.status_code, json.loads(response.body)


@pytest.mark.timeout(300)  # moto copies and sorts the whole index on each of the ~40 queries: ~60 s on 2 busy cores
def test_a_thousand_executions_page_by_has_more_with_no_duplicates_and_no_gaps(
    client: Client, deps: Dependencies, tenant: tuple[str, str]
) -> None:
    # Given an agent with 1,000 executions, ten created at each minute
    key, agent_id = tenant
    batch_id, _ = make_batch(client, tenant, 1)
    seed_executions(deps, "tenant-a", agent_id, batch_id, 1000)
    # When a Bolna client pages with page_size=50 while has_more says so
    seen: list[dict[str, Any]] = []
    page_number = 1
    while True:
        status, page = get(client, key, agent_id, f"?page_number={page_number}&page_size=50")
        assert status == 200, page
        assert page["page_number"] == page_number and page["page_size"] == 50
        seen.extend(page["data"])
        if not page["has_more"]:
            break
        assert page["total"] is None
        page_number += 1
    # Then it read 20 pages holding every execution exactly once, newest first
    assert page_number == 20 and page["total"] == 1000
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)) == 1000
    stored = {e.execution_id for e in deps.executions.iter_batch(batch_id)}
    assert set(ids) == stored
    created = [e["created_at"] for e in seen]
    assert created == sorted(created, reverse=True)


def test_filters_by_batch_status_and_time(client: Client, deps: Dependencies, tenant: tuple[str, str]) -> None:
    # Given two batches of one agent: 30 queued executions in the first, 20 completed in the second, later
    key, agent_id = tenant
    first, _ = make_batch(client, tenant, 1)
    second, _ = make_batch(client, tenant, 1)
    seed_executions(deps, "tenant-a", agent_id, first, 30)
    seed_executions(deps, "tenant-a", agent_id, second, 20, status="completed", minute=60)
    # Then each filter narrows the history, and they combine
    assert get(client, key, agent_id, f"?batch_id={second}&page_size=50")[1]["total"] == 20
    assert get(client, key, agent_id, "?status=queued&page_size=50")[1]["total"] == 30
    status, page = get(client, key, agent_id, f"?batch_id={first}&status=completed")
    assert (status, page["data"], page["has_more"], page["total"]) == (200, [], False, 0)
    # And from / to bound created_at, both inclusive (minutes 1 and 2 of the first batch: 20 executions)
    window = "?from=2026-11-01T00:01:00Z&to=2026-11-01T00:02:00.000Z&page_size=50"
    status, page = get(client, key, agent_id, window)
    assert status == 200 and page["total"] == 20
    assert {e["created_at"] for e in page["data"]} == {"2026-11-01T00:01:00.000Z", "2026-11-01T00:02:00.000Z"}
    # An offset is the same instant: 05:31+05:30 is 00:01 UTC
    assert get(client, key, agent_id, "?to=2026-11-01T05:31:00%2B05:30&page_size=50")[1]["total"] == 20
    # And a page past the end is empty, not an error
    status, page = get(client, key, agent_id, "?page_number=9&page_size=50")
    assert (status, page["data"], page["has_more"]) == (200, [], False)


def test_another_tenants_agent_is_not_found(
    client: Client, deps: Dependencies, tenant: tuple[str, str], other_tenant: tuple[str, str]
) -> None:
    key, _ = tenant
    other_key, other_agent = other_tenant
    batch_id, _ = make_batch(client, other_tenant, 1)
    seed_executions(deps, "tenant-b", other_agent, batch_id, 3)
    assert get(client, other_key, other_agent)[1]["total"] == 3
    status, body = get(client, key, other_agent)
    assert status == 404 and body["code"] == "agent_not_found"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?page_size=51", "invalid_query"),
        ("?page_size=0", "invalid_query"),
        ("?page_number=0", "invalid_query"),
        ("?page_number=abc", "invalid_query"),
        ("?page_number=201&page_size=50", "history_too_deep"),
        ("?status=done", "invalid_query"),
        ("?batch_id=" + "b" * 201, "invalid_query"),
        ("?from=2026-11-01T00:00:00", "invalid_query"),
        ("?from=yesterday", "invalid_query"),
        ("?to=9999-12-31T23:59:59-01:00", "invalid_query"),
        ("?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "invalid_query"),
    ],
)
def test_bad_queries_are_400s_that_say_why(client: Client, tenant: tuple[str, str], query: str, code: str) -> None:
    key, agent_id = tenant
    status, body = get(client, key, agent_id, query)
    assert status == 400 and body["code"] == code and body["message"], body


def test_a_filter_that_reads_too_far_asks_for_a_narrower_window(
    client: Client, deps: Dependencies, tenant: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a history where the filter matches nothing among more entries than one request may read
    key, agent_id = tenant
    batch_id, _ = make_batch(client, tenant, 1)
    seed_executions(deps, "tenant-a", agent_id, batch_id, 120)
    monkeypatch.setattr(agent_history, "MAX_EXAMINED", 100)
    # Then the answer is a 400 naming the way out, never a timeout
    status, body = get(client, key, agent_id, "?status=completed")
    assert status == 400 and body["code"] == "history_too_deep" and "from / to" in body["message"]
