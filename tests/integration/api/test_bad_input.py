"""Every way a user can send something wrong gets a 4xx that says what, never a 5xx."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from tests.integration.api.test_batches_create import CSV, multipart, post_csv


def error_of(response) -> dict:  # type: ignore[no-untyped-def]
    body = json.loads(response.body)
    assert set(body) == {"message", "code", "details"}, body
    return body


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"contact_number,name\n", "no_rows"),
        (b"name,city\nAsha,Pune\n", "no_number_column"),
        (b"contact_number\n12\nabc\n", "no_valid_contacts"),
        (bytes(range(256)) * 20, "not_text"),
    ],
)
def test_unusable_files_are_400_with_a_reason(
    client: Client, tenant: tuple[str, str], content: bytes, code: str
) -> None:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id}, content)
    assert response.status_code == 400
    assert error_of(response)["code"] == code


def test_missing_file(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id}, None)
    assert response.status_code == 400 and error_of(response)["code"] == "missing_file"


def test_missing_agent_id_names_the_field(client: Client, tenant: tuple[str, str]) -> None:
    key, _ = tenant
    response = post_csv(client, key, {}, CSV.encode())
    assert response.status_code == 400
    assert error_of(response)["details"][0]["field"] == "agent_id"


def test_malformed_multipart(client: Client, tenant: tuple[str, str]) -> None:
    key, _ = tenant
    response = client.http.post(
        "/batches",
        body=b'--xyz\r\nContent-Disposition: form-data; name="agent_id"\r\n\r\nabc',
        headers={"Authorization": f"Bearer {key}", "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_multipart"


def test_no_boundary(client: Client, tenant: tuple[str, str]) -> None:
    key, _ = tenant
    response = client.http.post(
        "/batches", body=b"junk", headers={"Authorization": f"Bearer {key}", "Content-Type": "multipart/form-data"}
    )
    assert response.status_code == 400


def test_unsupported_content_type_is_415(client: Client, tenant: tuple[str, str]) -> None:
    key, _ = tenant
    response = client.http.post(
        "/batches", body=b"x", headers={"Authorization": f"Bearer {key}", "Content-Type": "text/plain"}
    )
    assert response.status_code == 415 and error_of(response)["code"] == "unsupported_media_type"


def test_unknown_agent_is_404(client: Client, tenant: tuple[str, str]) -> None:
    key, _ = tenant
    response = post_csv(client, key, {"agent_id": "nope"}, CSV.encode())
    assert response.status_code == 404 and error_of(response)["code"] == "agent_not_found"


def test_another_tenants_agent_is_404(client: Client, tenant: tuple[str, str], other_tenant: tuple[str, str]) -> None:
    key, _ = tenant
    _, their_agent = other_tenant
    response = post_csv(client, key, {"agent_id": their_agent}, CSV.encode())
    assert response.status_code == 404


def test_another_tenants_batch_is_404(client: Client, tenant: tuple[str, str], other_tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    their_key, _ = other_tenant
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, CSV.encode()).body)["batch_id"]
    for path in (f"/batches/{batch_id}", f"/batches/{batch_id}/errors", f"/batches/{batch_id}/executions"):
        assert client.http.get(path, headers={"Authorization": f"Bearer {their_key}"}).status_code == 404
    assert (
        client.http.delete(f"/batches/{batch_id}", headers={"Authorization": f"Bearer {their_key}"}).status_code == 404
    )
    assert client.http.get(f"/batches/{batch_id}", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_body_over_the_limit_is_413_naming_the_upload_route(client: Client, tenant: tuple[str, str], svc) -> None:  # type: ignore[no-untyped-def]
    key, agent_id = tenant
    big = b"contact_number\n" + b"+12025550123\n" * (svc.settings.max_sync_upload_bytes // 13 + 10)
    response = post_csv(client, key, {"agent_id": agent_id}, big)
    assert response.status_code == 413
    assert "/batches/uploads" in error_of(response)["message"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong", "Basic abc", "bk_" + "x" * 300])
def test_missing_or_wrong_key_is_401(client: Client, tenant: tuple[str, str], header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.http.get("/agents", headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] in ("missing_api_key", "invalid_api_key")


@pytest.mark.parametrize(
    "fields",
    [
        {"retry_config": "{not json"},
        {"retry_config": json.dumps({"enabled": True, "max_retries": 9})},
        {"from_phone_numbers": "12"},
        {"default_region": "ZZ"},
        {"webhook_url": "ftp://x"},
        {"scheduled_at": "2030-01-01T10:00:00"},
        {"scheduled_at": "2001-01-01T10:00:00Z"},
        {"max_concurrent_calls": "0"},
        {"surprise": "x"},
    ],
)
def test_bad_fields_are_400(client: Client, tenant: tuple[str, str], fields: dict[str, str]) -> None:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id, **fields}, CSV.encode())
    assert response.status_code == 400, response.body
    assert error_of(response)["message"]


@pytest.mark.parametrize(
    "body", [b"{", b"[]", b'{"agent_id": "x"}', b'{"agent_id": "x", "contacts": [1]}', b"\xff\xfe"]
)
def test_bad_json_bodies_are_4xx(client: Client, tenant: tuple[str, str], body: bytes) -> None:
    key, _ = tenant
    response = client.http.post(
        "/batches", body=body, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.body


def test_multipart_helper_is_parsed_as_sent(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    body, ctype = multipart(
        {"agent_id": agent_id, "from_phone_numbers": ["+12025550147", "+12025550148"]}, CSV.encode()
    )
    response = client.http.post(
        "/batches", body=body, headers={"Authorization": f"Bearer {key}", "Content-Type": ctype}
    )
    batch = json.loads(
        client.http.get(
            f"/batches/{json.loads(response.body)['batch_id']}", headers={"Authorization": f"Bearer {key}"}
        ).body
    )
    assert batch["from_phone_numbers"] == ["+12025550147", "+12025550148"]
