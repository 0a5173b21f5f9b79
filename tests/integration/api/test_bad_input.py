"""Every way a user can send something wrong gets a 4xx that says what, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from tests.support.api import CSV, multipart, post_csv


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


def test_body_over_the_limit_is_413_naming_the_upload_route(client: Client, tenant: tuple[str, str], deps) -> None:  # type: ignore[no-untyped-def]
    key, agent_id = tenant
    big = b"contact_number\n" + b"+12025550123\n" * (deps.settings.max_sync_upload_bytes // 13 + 10)
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


# --- bounds on every field (issue 12, bug 6): each of these was a 500 or was accepted ---------------------

DEEP = b"[" * 100_000


def send_json(client: Client, key: str, method: str, path: str, body: bytes | dict[str, Any]) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()  # ensure_ascii: "\ud800" travels escaped
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return getattr(client.http, method)(path, body=raw, headers=headers)


def field_of(response) -> str | None:  # type: ignore[no-untyped-def]
    """The field the first detail names, after checking the answer is a 4xx in the error shape."""
    assert 400 <= response.status_code < 500, (response.status_code, response.body)
    details = error_of(response)["details"]
    return details[0]["field"] if details else None


def a_batch(client: Client, tenant: tuple[str, str]) -> str:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id}, CSV.encode())
    batch_id: str = json.loads(response.body)["batch_id"]
    return batch_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/agents"),
        ("patch", "/agents/{agent}"),
        ("post", "/batches"),
        ("post", "/batches/uploads"),
        ("post", "/batches/{batch}/schedule"),
    ],
)
def test_deeply_nested_json_is_400_on_every_json_route(
    client: Client, tenant: tuple[str, str], method: str, path: str
) -> None:
    key, agent_id = tenant
    url = path.format(agent=agent_id, batch=a_batch(client, tenant) if "{batch}" in path else "")
    response = send_json(client, key, method, url, DEEP)
    assert response.status_code == 400, response.body
    assert error_of(response)["code"] == "invalid_json"


def test_json_nested_beyond_32_levels_is_400_even_when_well_formed(client: Client, tenant: tuple[str, str]) -> None:
    key, _ = tenant
    body = b'{"name": "x", "provider_config": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}"
    response = send_json(client, key, "post", "/agents", body)
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"


def test_deeply_nested_provider_callback_is_400(client: Client) -> None:
    response = client.http.post(
        "/providers/http/events?execution_id=x", body=b"{" + DEEP, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"


@pytest.mark.parametrize("field", ["retry_config", "from_phone_numbers"])
def test_deeply_nested_json_in_a_form_field_is_400_naming_it(
    client: Client, tenant: tuple[str, str], field: str
) -> None:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id, field: "[" * 100_000}, CSV.encode())
    assert (field_of(response) or "").startswith(field)


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        ({"contact_number": "+12025550123", "name": "\ud800"}, "contacts.0.name"),
        ({"contact_number": "+12025550123", "\ud800": "x"}, "contacts.0"),
    ],
)
def test_a_lone_surrogate_in_a_json_contact_is_400_naming_it(
    client: Client, tenant: tuple[str, str], contact: dict[str, str], field: str
) -> None:
    key, agent_id = tenant
    response = send_json(client, key, "post", "/batches", {"agent_id": agent_id, "contacts": [contact]})
    assert field_of(response) == field


def test_a_lone_surrogate_in_any_string_field_is_400_naming_it(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    assert field_of(send_json(client, key, "post", "/agents", {"name": "A\ud800"})) == "name"
    assert field_of(send_json(client, key, "patch", f"/agents/{agent_id}", {"prompt": "\udfff"})) == "prompt"
    assert field_of(send_json(client, key, "post", "/batches/uploads", {"agent_id": agent_id, "name": "\ud800"})) == (
        "name"
    )


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"calls_per_second": 1e-300}, "calls_per_second"),
        ({"provider_config": {"cost_per_minute": 1e-300}}, "provider_config.cost_per_minute"),
        ({"provider_config": {"fixed_talk_seconds": 1e-300}}, "provider_config.fixed_talk_seconds"),
        ({"max_concurrent_calls": True}, "max_concurrent_calls"),
        ({"call_start_hour": False}, "call_start_hour"),
        ({"call_days": ["mon"] * 1000}, "call_days"),
        ({"call_days": ["mon", "mon"]}, "call_days"),
        ({"name": "bad\x00name"}, "name"),
        ({"name": "two\nlines"}, "name"),
        ({"timezone": "x" * 100_000}, "timezone"),
        ({"from_phone_numbers": ["1" * 100_000]}, "from_phone_numbers.0"),
        (
            {"retry_config": {"enabled": True, "retry_intervals_minutes": [True]}},
            "retry_config.retry_intervals_minutes.0",
        ),
    ],
)
def test_out_of_range_agent_fields_are_400_naming_them(
    client: Client, tenant: tuple[str, str], patch: dict[str, object], field: str
) -> None:
    key, agent_id = tenant
    # Given an agent patched, and one created, with the same out-of-range field
    patched = send_json(client, key, "patch", f"/agents/{agent_id}", patch)
    created = send_json(client, key, "post", "/agents", {"name": "new", **patch} if "name" not in patch else patch)
    # Then both are a 4xx naming the field, and the agent is unchanged
    assert field_of(patched) == field
    assert field_of(created) == field


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"file_name": "x" * 500_000}, "file_name"),
        ({"file_name": "a\x00.csv"}, "file_name"),
        ({"name": "tab\there"}, "name"),
        ({"max_concurrent_calls": True}, "max_concurrent_calls"),
        ({"scheduled_at": "2030-01-01T10:00:00Z" + " " * 100_000 + "x"}, "scheduled_at"),
        ({"default_region": "U" * 100_000}, "default_region"),
        ({"retry_config": {"enabled": True, "max_retries": True}}, "retry_config.max_retries"),
    ],
)
def test_out_of_range_upload_fields_are_400_naming_them(
    client: Client, tenant: tuple[str, str], fields: dict[str, object], field: str
) -> None:
    key, agent_id = tenant
    response = send_json(client, key, "post", "/batches/uploads", {"agent_id": agent_id, **fields})
    assert field_of(response) == field


def test_a_form_number_still_parses_from_text(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id, "max_concurrent_calls": "3"}, CSV.encode())
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["batch_id"]


def test_a_very_long_multipart_file_name_is_400_naming_the_file(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id}, CSV.encode(), filename="x" * 300 + ".csv")
    assert field_of(response) == "file"


def test_url_schemes_are_case_insensitive(client: Client, tenant: tuple[str, str]) -> None:
    key, agent_id = tenant
    # Given an https URL written in capitals, on an agent and on a batch
    agent = send_json(client, key, "patch", f"/agents/{agent_id}", {"webhook_url": "HTTPS://hooks.example.com/a"})
    batch = send_json(
        client, key, "post", "/batches/uploads", {"agent_id": agent_id, "status_webhook": "Https://hooks.example.com/b"}
    )
    # Then both are accepted
    assert agent.status_code == 200, agent.body
    assert batch.status_code == 201, batch.body
    # While HTTP:// is refused for what it is, plain http (https only), not for its case
    refused = send_json(client, key, "patch", f"/agents/{agent_id}", {"webhook_url": "HTTP://hooks.example.com/a"})
    assert field_of(refused) == "webhook_url"
    assert "https://" in error_of(refused)["message"] + json.dumps(error_of(refused)["details"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/batches//executions"),
        ("GET", "/batches//executions.csv"),
        ("GET", "/batches//webhooks"),
        ("GET", "/batches//errors"),
        ("GET", "/batches//all"),
        ("POST", "/batches//run"),
        ("POST", "/batches//stop"),
    ],
)
def test_an_empty_id_in_the_path_is_a_404(client: Client, tenant: tuple[str, str], method: str, path: str) -> None:
    # Given a URL whose id segment is empty (a script's unset variable: /batches/$BATCH/executions)
    key, _ = tenant
    # When it is requested, Then it is a 404 in our shape, not a 500 (DynamoDB refuses an empty key)
    response = client.http.request(method, path, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404, (path, response.body)
    assert error_of(response)["code"] in ("batch_not_found", "agent_not_found", "not_found")


@pytest.mark.parametrize("status", ["zzz", "COMPLETED", "no_answer"])
def test_an_unknown_status_filter_is_400_not_an_empty_page(
    client: Client, tenant: tuple[str, str], status: str
) -> None:
    # Given a batch, and a status filter that no call can have (a typo)
    key, agent_id = tenant
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, CSV.encode()).body)["batch_id"]
    # When the executions are listed with it
    response = client.http.get(
        f"/batches/{batch_id}/executions?status={status}", headers={"Authorization": f"Bearer {key}"}
    )
    # Then it is a 400 naming the field and the statuses it takes (as the API reference's enum says),
    # not a 200 with no calls that reads as "none with this status"
    assert response.status_code == 400, response.body
    body = error_of(response)
    assert body["code"] == "invalid_query"
    assert "status" in body["message"] and "no-answer" in body["message"]


def test_a_too_long_optional_text_is_counted_in_characters(client: Client, tenant: tuple[str, str]) -> None:
    # Given an agent, When a patch sends a 300-character name (the bound sits on an optional field)
    key, agent_id = tenant
    response = send_json(client, key, "patch", f"/agents/{agent_id}", {"name": "x" * 300})
    # Then the 400 names the field and speaks of characters, as for any string
    assert response.status_code == 400
    [detail] = error_of(response)["details"]
    assert detail == {"field": "name", "message": "String should have at most 200 characters, not 300"}
