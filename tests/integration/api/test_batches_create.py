"""POST /batches and the read routes, through chalice.test.Client on moto."""

from __future__ import annotations

import json

from chalice.test import Client

from tests.support.api import CSV, post_csv


def test_create_from_csv_counts_and_reads_back(client: Client, tenant: tuple[str, str]) -> None:
    # Given a CSV with two valid numbers, a duplicate and an invalid row
    key, agent_id = tenant
    # When it is posted as multipart
    response = post_csv(client, key, {"agent_id": agent_id, "name": "first"}, CSV.encode())
    # Then the batch is created with Bolna's counts
    assert response.status_code == 201, response.body
    created = json.loads(response.body)
    assert created["state"] == "created"
    assert len(created["batch_id"]) == 32
    assert (created["total_contacts"], created["valid_contacts"]) == (4, 2)
    assert (created["invalid_contacts"], created["duplicate_contacts"]) == (1, 1)
    # And GET answers the batch in Bolna's shape
    got = json.loads(
        client.http.get(f"/batches/{created['batch_id']}", headers={"Authorization": f"Bearer {key}"}).body
    )
    assert got["status"] == "created"
    assert got["file_name"] == "batch.csv"
    assert got["valid_contacts"] == 2 and got["agent_id"] == agent_id
    assert got["from_phone_numbers"] == ["+12025550147"]
    assert got["execution_status"] == {}
    # And the skipped rows are listed with row number and reason
    errors = json.loads(
        client.http.get(f"/batches/{created['batch_id']}/errors", headers={"Authorization": f"Bearer {key}"}).body
    )
    assert [(e["row"], e["reason"]) for e in errors] == [(4, "duplicate"), (5, "invalid_number")]


def test_create_from_json_contacts(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    body = {
        "agent_id": agent_id,
        "default_region": "IN",
        "contacts": [{"contact_number": "98765 43210", "customer_name": "Asha"}, {"phone": "+12025550123"}],
    }
    response = client.http.post(
        "/batches",
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["valid_contacts"] == 2


def test_list_for_agent_is_newest_first_and_bare(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    ids = [json.loads(post_csv(client, key, {"agent_id": agent_id}, CSV.encode()).body)["batch_id"] for _ in range(2)]
    listed = json.loads(client.http.get(f"/batches/{agent_id}/all", headers={"Authorization": f"Bearer {key}"}).body)
    assert isinstance(listed, list)
    assert [b["batch_id"] for b in listed] == ids[::-1]


def test_delete_then_not_found(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, CSV.encode()).body)["batch_id"]
    auth = {"Authorization": f"Bearer {key}"}
    deleted = client.http.delete(f"/batches/{batch_id}", headers=auth)
    assert json.loads(deleted.body) == {"message": "success", "state": "deleted"}
    assert client.http.get(f"/batches/{batch_id}", headers=auth).status_code == 404
    assert json.loads(client.http.get(f"/batches/{agent_id}/all", headers=auth).body) == []


def test_placeholders_without_values_are_warned_about_at_creation(client: Client, tenant: tuple[str, str]) -> None:
    # Given an agent whose messages use {customer_name} (a column) and {{due_date}} (no such column)
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    patch = {"welcome_message": "Hi {customer_name}", "prompt": "Remind them of {{due_date}}"}
    assert client.http.patch(f"/agents/{agent_id}", body=json.dumps(patch), headers=auth).status_code == 200
    csv_text = "contact_number,customer_name\n+12025550123,Asha\n+919876543210,\n"
    # When a batch is created
    response = post_csv(client, key, {"agent_id": agent_id}, csv_text.encode())
    # Then it is created, with a warning per placeholder naming the rows
    assert response.status_code == 201, response.body
    warnings = {w["placeholder"]: w for w in json.loads(response.body)["warnings"]}
    assert warnings["due_date"]["code"] == "placeholder_without_column"
    assert warnings["due_date"]["in"] == ["prompt"] and warnings["due_date"]["rows"] == [2, 3]
    assert warnings["customer_name"]["code"] == "placeholder_blank" and warnings["customer_name"]["rows"] == [3]
    # And the batch keeps them
    batch_id = json.loads(response.body)["batch_id"]
    got = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert [w["placeholder"] for w in got["warnings"]] == ["customer_name", "due_date"]


def test_a_file_with_no_callable_row_says_which_rows_and_why(client: Client, tenant: tuple[str, str]) -> None:
    # Given a CSV whose 4 rows all have a blank or an invalid number
    key, agent_id = tenant
    csv_text = "contact_number,name\n,Ann\n12345,Bob\n,Cy\nabc,Di\n"
    # When it is posted
    response = post_csv(client, key, {"agent_id": agent_id}, csv_text.encode())
    # Then the 400 names missing numbers as such and lists the rows with their reasons, as the errors report does
    assert response.status_code == 400, response.body
    body = json.loads(response.body)
    assert body["code"] == "no_valid_contacts"
    assert "2 invalid numbers, 2 missing numbers" in body["message"]
    assert [(d["row"], d["reason"], d["value"]) for d in body["details"]] == [
        (2, "missing_number", ""),
        (3, "invalid_number", "12345"),
        (4, "missing_number", ""),
        (5, "invalid_number", "abc"),
    ]


def test_a_number_with_an_extension_is_called_without_it_and_warned_about(
    client: Client, tenant: tuple[str, str]
) -> None:
    # Given a CSV with a number written with an extension
    key, agent_id = tenant
    csv_text = "contact_number,name\n+12025550123 ext. 23,Asha\n+919876543210,Ravi\n"
    # When it is posted
    response = post_csv(client, key, {"agent_id": agent_id}, csv_text.encode())
    # Then the contact is kept (the extension dropped) and the batch warns about that row
    assert response.status_code == 201, response.body
    created = json.loads(response.body)
    assert (created["valid_contacts"], created["invalid_contacts"]) == (2, 0)
    [warning] = [w for w in created["warnings"] if w["code"] == "number_extension_dropped"]
    assert (warning["rows"], warning["row_count"]) == ([2], 1) and "extension" in warning["message"]
    # And the batch keeps the warning
    auth = {"Authorization": f"Bearer {key}"}
    got = json.loads(client.http.get(f"/batches/{created['batch_id']}", headers=auth).body)
    assert warning in got["warnings"]


def test_a_megabyte_cell_skips_only_its_row(client: Client, tenant: tuple[str, str]) -> None:
    # Given a 1.1 MB note (the limits table: a cell over 8,192 characters skips its row)
    key, agent_id = tenant
    csv_bytes = b"contact_number,note\n+12025550123," + b"x" * 1_100_000 + b"\n+919876543210,short\n"
    # When it is posted
    response = post_csv(client, key, {"agent_id": agent_id}, csv_bytes)
    # Then the batch is created with the other row, and the long one is in the errors report
    assert response.status_code == 201, response.body
    created = json.loads(response.body)
    assert (created["valid_contacts"], created["invalid_contacts"]) == (1, 1)
    auth = {"Authorization": f"Bearer {key}"}
    errors = json.loads(client.http.get(f"/batches/{created['batch_id']}/errors", headers=auth).body)
    assert [(e["row"], e["reason"]) for e in errors] == [(2, "cell_too_long")]
