"""Every request model bounds its strings and numbers; a breach is a ValidationError naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from chalicelib.domain.agents import AgentCreate, AgentPatch
from chalicelib.domain.batches import BatchOptions, UploadOptions, check_file_name
from chalicelib.domain.provider_config import HttpAgentConfig, SimulatorConfig, TwilioConfig
from chalicelib.domain.retry import RetryConfig


def refused_field(model: type[BaseModel], data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return ".".join(str(part) for part in caught.value.errors()[0]["loc"])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "a\x00b"}, "name"),
        ({"name": "a\x1bb"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"max_concurrent_calls": True}, "max_concurrent_calls"),
        ({"calls_per_second": 1e-300}, "calls_per_second"),
        ({"calls_per_second": float("nan")}, "calls_per_second"),
        ({"call_end_hour": True}, "call_end_hour"),
        ({"call_days": ["mon"] * 8}, "call_days"),
        ({"call_days": ["tue", "tue"]}, "call_days"),
        ({"timezone": "x" * 65}, "timezone"),
        ({"webhook_url": "ftp://x"}, "webhook_url"),
        ({"webhook_url": "https://x\ny"}, "webhook_url"),
        ({"welcome_message": "hi\x00"}, "welcome_message"),
        ({"from_phone_numbers": ["1" * 33]}, "from_phone_numbers.0"),
        ({"provider_config": {str(i): i for i in range(51)}}, "provider_config"),
    ],
)
def test_agent_fields_out_of_bounds_are_refused_on_create_and_patch(data: dict[str, Any], field: str) -> None:
    assert refused_field(AgentPatch, data) == field
    assert refused_field(AgentCreate, {"name": "n", **data}) == field


def test_agent_fields_within_bounds_still_pass() -> None:
    agent = AgentCreate.model_validate(
        {
            "name": "Sales",
            "max_concurrent_calls": "5",  # text that is a number still parses (form fields)
            "calls_per_second": 0.5,
            "call_days": ["mon", "fri"],
            "webhook_url": "HTTPS://hooks.example.com/x",
            "prompt": "Line one\n\tLine two",
        }
    )
    assert agent.max_concurrent_calls == 5 and agent.webhook_url == "HTTPS://hooks.example.com/x"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "two\nlines"}, "name"),
        ({"agent_id": "a\x00"}, "agent_id"),
        ({"max_concurrent_calls": True}, "max_concurrent_calls"),
        ({"default_region": "U" * 9}, "default_region"),
        ({"scheduled_at": "2030-01-01T00:00:00Z" + "0" * 60}, "scheduled_at"),
        ({"status_webhook": "gopher://x"}, "status_webhook"),
    ],
)
def test_batch_options_out_of_bounds_are_refused(data: dict[str, Any], field: str) -> None:
    assert refused_field(BatchOptions, {"agent_id": "a", **data}) == field


def test_batch_options_take_form_text_and_any_case_of_scheme() -> None:
    options = BatchOptions.model_validate(
        {"agent_id": "a", "max_concurrent_calls": "7", "webhook_url": "Http://127.0.0.1/hook"}
    )
    assert options.max_concurrent_calls == 7


@pytest.mark.parametrize("name", ["x" * 256, "a\x00.csv", "a\n.csv"])
def test_file_names_are_bounded_on_both_upload_routes(name: str) -> None:
    assert refused_field(UploadOptions, {"agent_id": "a", "file_name": name}) == "file_name"
    with pytest.raises(ValueError):
        check_file_name(name)
    check_file_name("contacts (2).csv")


@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (SimulatorConfig, {"cost_per_minute": 1e-300}, "cost_per_minute"),
        (SimulatorConfig, {"fixed_talk_seconds": 1e-300}, "fixed_talk_seconds"),
        (SimulatorConfig, {"cost_per_minute": True}, "cost_per_minute"),
        (SimulatorConfig, {"fixed_talk_seconds": float("inf")}, "fixed_talk_seconds"),
        (TwilioConfig, {"ring_timeout_seconds": True}, "ring_timeout_seconds"),
        (HttpAgentConfig, {"endpoint": "https://x", "call_id_field": "c" * 201}, "call_id_field"),
        (HttpAgentConfig, {"endpoint": "https://x", "agent_ref": "a\x00"}, "agent_ref"),
        (
            HttpAgentConfig,
            {"endpoint": "https://x", "status_map": {"x" * 201: "completed"}},
            "status_map.x" + "x" * 200,
        ),
        (RetryConfig, {"max_retries": True}, "max_retries"),
        (RetryConfig, {"retry_intervals_minutes": [False]}, "retry_intervals_minutes.0"),
    ],
)
def test_provider_and_retry_numbers_and_strings_are_bounded(
    model: type[BaseModel], data: dict[str, Any], field: str
) -> None:
    assert refused_field(model, data).startswith(field.split(".")[0])


def test_zero_stays_a_valid_amount_and_schemes_ignore_case() -> None:
    assert SimulatorConfig.model_validate({"cost_per_minute": 0, "fixed_talk_seconds": 0}).cost_per_minute == 0
    assert TwilioConfig.model_validate({"stream_url": "WSS://agent.example.com/m"}).stream_url
    assert HttpAgentConfig.model_validate({"endpoint": "HTTPS://api.example.com/call"}).endpoint


REQUEST_MODELS = [AgentCreate, AgentPatch, BatchOptions, UploadOptions, SimulatorConfig, TwilioConfig, HttpAgentConfig]


def unbounded(schema: dict[str, Any], defs: dict[str, Any], path: str) -> list[str]:
    """Paths of strings without a length, numbers without a range, arrays and maps without a size."""
    if "$ref" in schema:
        return unbounded(defs[schema["$ref"].split("/")[-1]], defs, path)
    found: list[str] = []
    for option in schema.get("anyOf", []):
        found += unbounded(option, defs, path)
    kind = schema.get("type")
    if kind == "string" and not ({"maxLength", "enum", "const", "pattern"} & set(schema)):
        found.append(path)
    if kind in ("integer", "number") and not {"minimum", "maximum"} <= set(schema):
        found.append(path)
    if kind == "array":
        found += _unbounded_items(schema, defs, path)
    if kind == "object":
        found += _unbounded_members(schema, defs, path)
    return found


def _unbounded_items(schema: dict[str, Any], defs: dict[str, Any], path: str) -> list[str]:
    found = [] if "maxItems" in schema else [path]
    return found + unbounded(schema.get("items", {}), defs, path + "[]")


def _unbounded_members(schema: dict[str, Any], defs: dict[str, Any], path: str) -> list[str]:
    found: list[str] = []
    if isinstance(schema.get("additionalProperties"), dict):
        if "maxProperties" not in schema:
            found.append(path)
        found += unbounded(schema["additionalProperties"], defs, path + "{}")
    for name, sub in schema.get("properties", {}).items():
        found += unbounded(sub, defs, f"{path}.{name}" if path else name)
    return found


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda m: m.__name__)
def test_every_string_number_and_list_of_every_request_model_is_bounded_in_its_schema(model: type[BaseModel]) -> None:
    # The OpenAPI document is generated from these schemas: each bound must show there, in JSON Schema's words
    schema = model.model_json_schema()
    assert unbounded(schema, schema.get("$defs", {}), "") == []
    text = str(schema)
    assert not any(f"'{raw}':" in text for raw in ("ge", "le", "gt", "lt", "max_length", "min_length")), text
