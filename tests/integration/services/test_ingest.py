"""The rejected rows of an upload, a page at a time: the paging is the use case's, the route only answers."""

from __future__ import annotations

import json

from chalice.test import Client

from chalicelib.services.container import Dependencies
from chalicelib.services.ingest import errors_page
from tests.support.api import post_csv

CSV = "contact_number,customer_name\n+12025550123,Asha\n12345,One\n12346,Two\n12347,Three\n"


def _batch(client: Client, tenant: tuple[str, str]) -> str:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id}, CSV.encode())
    assert response.status_code == 201, response.body
    return str(json.loads(response.body)["batch_id"])


def test_errors_page_walks_the_rejected_rows_by_offset(
    deps: Dependencies, client: Client, tenant: tuple[str, str]
) -> None:
    batch_id = _batch(client, tenant)
    first, cursor = errors_page(deps, "tenant-a", batch_id, 0, 2)
    assert [e["row"] for e in first] == [3, 4] and cursor == "2"
    last, cursor = errors_page(deps, "tenant-a", batch_id, 2, 2)
    assert [e["row"] for e in last] == [5] and cursor is None
    assert errors_page(deps, "tenant-a", batch_id, 9, 2) == ([], None)


def test_the_errors_route_pages_with_x_next_cursor(client: Client, tenant: tuple[str, str]) -> None:
    batch_id = _batch(client, tenant)
    auth = {"Authorization": f"Bearer {tenant[0]}"}
    first = client.http.get(f"/batches/{batch_id}/errors?limit=2", headers=auth)
    assert [e["row"] for e in json.loads(first.body)] == [3, 4]
    cursor = first.headers["X-Next-Cursor"]
    last = client.http.get(f"/batches/{batch_id}/errors?limit=2&cursor={cursor}", headers=auth)
    assert [e["row"] for e in json.loads(last.body)] == [5]
    assert "X-Next-Cursor" not in last.headers
