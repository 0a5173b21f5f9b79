"""The do-not-call list through the API: add (JSON, CSV), read, list (paged, by source), remove, expiry,
and another tenant's list is invisible and untouchable (404)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from chalice.test import Client

from tests.support.api import multipart


def auth_of(tenant: tuple[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant[0]}", "Content-Type": "application/json"}


def add(client: Client, tenant: tuple[str, str], **body: Any) -> Any:
    return client.http.post("/suppressions", headers=auth_of(tenant), body=json.dumps(body))


def test_one_number_is_normalised_like_a_contact_and_read_back(client: Client, tenant: tuple[str, str]) -> None:
    # Given a number written nationally with a default region
    response = add(client, tenant, number="(202) 555-0101", default_region="US", reason="asked by email")
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["added"] == 1
    # When it is read in E.164 (the + encoded in the path)
    got = client.http.get("/suppressions/%2B12025550101", headers=auth_of(tenant))
    # Then it is the normalised number, with who added it, why and when
    assert got.status_code == 200, got.body
    entry = json.loads(got.body)
    assert entry["number"] == "+12025550101"
    assert entry["source"] == "api" and entry["reason"] == "asked by email"
    assert entry["added_by"] == "local stack"  # the API key's label
    assert entry["created_at"] and entry["expires_at"] is None


def test_many_numbers_report_invalid_and_duplicate_rows(client: Client, tenant: tuple[str, str]) -> None:
    response = add(client, tenant, numbers=["+12025550101", "+12025550102", "12", "+1 202 555 0101"])
    assert response.status_code == 201, response.body
    body = json.loads(response.body)
    assert (body["added"], body["invalid_numbers"], body["duplicate_numbers"]) == (2, 1, 1)
    assert {e["reason"] for e in body["errors"]} == {"invalid_number", "duplicate"}


def test_nothing_valid_is_a_400(client: Client, tenant: tuple[str, str]) -> None:
    response = add(client, tenant, numbers=["12", "abc"])
    assert response.status_code == 400
    assert json.loads(response.body)["code"] == "no_valid_contacts"


def test_a_csv_upload_uses_the_batch_file_rules(client: Client, tenant: tuple[str, str]) -> None:
    csv = b"name,phone_number\nA,+12025550111\nB,not a number\nC,+12025550112\n"
    body, content_type = multipart({"reason": "carrier list"}, csv)
    response = client.http.post(
        "/suppressions", headers={"Authorization": f"Bearer {tenant[0]}", "Content-Type": content_type}, body=body
    )
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["added"] == 2
    listed = client.http.get("/suppressions?source=csv", headers=auth_of(tenant))
    assert [e["number"] for e in json.loads(listed.body)] == ["+12025550111", "+12025550112"]
    assert {e["reason"] for e in json.loads(listed.body)} == {"carrier list"}


def test_listing_pages_with_a_cursor_and_filters_by_source(client: Client, tenant: tuple[str, str]) -> None:
    add(client, tenant, numbers=[f"+1202555{200 + i:04d}" for i in range(5)])
    add(client, tenant, number="+12025550300", source="provider")
    seen: list[str] = []
    cursor = ""
    while True:
        page = client.http.get(f"/suppressions?limit=2{cursor}", headers=auth_of(tenant))
        assert page.status_code == 200, page.body
        seen += [e["number"] for e in json.loads(page.body)]
        nxt = page.headers.get("X-Next-Cursor")
        if not nxt:
            break
        cursor = f"&cursor={nxt}"
    assert len(seen) == 6 and seen == sorted(seen)
    provider = json.loads(client.http.get("/suppressions?source=provider", headers=auth_of(tenant)).body)
    assert [e["number"] for e in provider] == ["+12025550300"]
    assert client.http.get("/suppressions?source=nope", headers=auth_of(tenant)).status_code == 400


def test_delete_takes_it_off_and_a_second_delete_is_404(client: Client, tenant: tuple[str, str]) -> None:
    add(client, tenant, number="+12025550101")
    assert client.http.delete("/suppressions/%2B12025550101", headers=auth_of(tenant)).status_code == 200
    assert client.http.get("/suppressions/%2B12025550101", headers=auth_of(tenant)).status_code == 404
    assert client.http.delete("/suppressions/%2B12025550101", headers=auth_of(tenant)).status_code == 404


def test_an_expired_entry_no_longer_suppresses(client: Client, tenant: tuple[str, str]) -> None:
    until = datetime.now(UTC) + timedelta(hours=1)
    add(client, tenant, number="+12025550101", expires_at=until.isoformat())
    assert client.http.get("/suppressions/%2B12025550101", headers=auth_of(tenant)).status_code == 200
    with time_machine.travel(until + timedelta(seconds=1)):
        assert client.http.get("/suppressions/%2B12025550101", headers=auth_of(tenant)).status_code == 404
        assert json.loads(client.http.get("/suppressions", headers=auth_of(tenant)).body) == []
    past = add(client, tenant, number="+12025550101", expires_at="2001-01-01T00:00:00Z")
    assert past.status_code == 400


def test_another_tenant_can_neither_read_nor_remove_it(
    client: Client, tenant: tuple[str, str], other_tenant: tuple[str, str]
) -> None:
    add(client, tenant, number="+12025550101")
    assert client.http.get("/suppressions/%2B12025550101", headers=auth_of(other_tenant)).status_code == 404
    assert client.http.delete("/suppressions/%2B12025550101", headers=auth_of(other_tenant)).status_code == 404
    assert json.loads(client.http.get("/suppressions", headers=auth_of(other_tenant)).body) == []
    # and the owner's entry is untouched
    assert client.http.get("/suppressions/%2B12025550101", headers=auth_of(tenant)).status_code == 200


def test_a_path_that_is_not_a_number_is_a_400(client: Client, tenant: tuple[str, str]) -> None:
    response = client.http.get("/suppressions/hello", headers=auth_of(tenant))
    assert response.status_code == 400
    assert json.loads(response.body)["code"] == "invalid_number"


def test_bad_options_are_400s_never_500s(client: Client, tenant: tuple[str, str]) -> None:
    bodies: list[dict[str, Any]] = [
        {"number": "2025550101", "default_region": "ZZ"},
        {"number": "+12025550101", "expires_at": "9999-12-31T23:59:59-05:00"},
        {"number": "+12025550101", "numbers": ["+12025550102"]},
        {},
        {"numbers": []},
    ]
    for body in bodies:
        response = add(client, tenant, **body)
        assert response.status_code == 400, (body, response.body)
    form = client.http.post(
        "/suppressions",
        headers={"Authorization": f"Bearer {tenant[0]}", "Content-Type": "application/x-www-form-urlencoded"},
        body="reason=x",
    )
    assert form.status_code == 400 and json.loads(form.body)["code"] == "missing_file"
