"""The OpenAPI document against the app it describes: same routes, possible statuses, same shapes."""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

from chalicelib.api import bodies
from chalicelib.api.openapi import OPERATIONS, document, error_statuses
from chalicelib.domain.agents import AgentCreate, AgentFields
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.batch_status import BatchStatus
from chalicelib.domain.batches import public_batch, public_execution
from chalicelib.domain.call_status import CallStatus
from chalicelib.domain.erasures import Erasure, public_erasure
from chalicelib.domain.provider_config import HttpAgentConfig, SimulatorConfig, TwilioConfig
from chalicelib.domain.records import Agent, Batch, Execution, Tenant
from chalicelib.domain.retry import RetryConfig
from chalicelib.services import agents as agent_service
from chalicelib.services import webhooks as webhook_service
from chalicelib.services.audit import public_entry


def app_routes() -> dict[tuple[str, str], Any]:
    import app as app_module

    return {
        (path, method): entry for path, entries in app_module.app.routes.items() for method, entry in entries.items()
    }


def documented() -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in document()["paths"].items() for method in item}


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(document())
    assert document()["openapi"].startswith("3.1")


def test_every_route_is_documented() -> None:
    # Given the Chalice app; Then each of its routes and methods is an operation of the document
    missing = set(app_routes()) - documented()
    assert not missing, f"routes without an operation in chalicelib/api/openapi.py: {sorted(missing)}"


def test_every_documented_operation_is_a_route() -> None:
    extra = documented() - set(app_routes())
    assert not extra, f"operations in the document that the app does not have: {sorted(extra)}"


def _handler_source(view: Any) -> str:
    """The view's source, that of the module's private helpers it calls (`_serve(...)`) and that of the
    shared answer helpers of chalicelib/api it calls (`csv_answer(...)`: its 303)."""
    view = inspect.unwrap(view)
    source = inspect.getsource(view)
    module = inspect.getmodule(view)
    assert module is not None
    called = {getattr(module, name, None) for name in re.findall(r"\b([a-z_]\w*)\(", source)}
    helpers = [
        f
        for f in called
        if inspect.isfunction(f)
        and f.__module__.startswith("chalicelib.api.")
        and (f.__module__ == module.__name__ or not f.__name__.startswith("_"))
    ]
    return source + "".join(inspect.getsource(f) for f in sorted(helpers, key=lambda f: f.__name__))


def test_each_success_status_is_one_its_handler_answers() -> None:
    # A non-200 success status must be written in the handler or a helper of its module it calls
    # (200 is json_response's default).
    routes = app_routes()
    for op in OPERATIONS:
        source = _handler_source(routes[(op.path, op.method)].view_function)
        for reply in op.replies:
            if reply.status != 200:
                assert re.search(rf"\b{reply.status}\b", source), f"{op.method} {op.path} never answers {reply.status}"


def test_error_statuses_are_those_typed_errors_map_to() -> None:
    possible = error_statuses()
    for op in OPERATIONS:
        assert set(op.errors) <= possible, f"{op.method} {op.path}: {set(op.errors) - possible}"
        # Then a route behind the API key documents the 401, and a public one does not
        assert (401 in op.errors) != op.public, f"{op.method} {op.path}"


def test_api_key_is_a_bearer_scheme_and_the_reference_is_public() -> None:
    doc = document()
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert doc["security"] == [{"bearerAuth": []}]
    for path in ("/openapi.json", "/docs", "/providers/{name}/events"):
        assert next(iter(doc["paths"][path].values()))["security"] == []


def test_export_documents_its_redirect_and_its_background_answer() -> None:
    responses = document()["paths"]["/batches/{batch_id}/executions.csv"]["get"]["responses"]
    assert {"200", "202", "303"} <= set(responses)
    assert set(responses["202"]["headers"]) == {"Retry-After", "Location"}
    assert set(responses["303"]["headers"]) == {"Location"}
    paged = document()["paths"]["/batches/{batch_id}/executions"]["get"]["responses"]["200"]
    assert "X-Next-Cursor" in paged["headers"]


def fields(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


BATCH = Batch(batch_id="b", tenant_id="t", agent_id="a", status=BatchStatus.CREATED, created_at="2026-11-30T10:00:00Z")
EXECUTION = Execution(execution_id="e", batch_id="b", tenant_id="t", agent_id="a", status=CallStatus.QUEUED)
ERASURE = Erasure(tenant_id="t", erasure_id="x", number_masked="+1******0100", requested_at="2026-11-30")


@pytest.mark.parametrize(
    ("model", "shown"),
    [
        (
            bodies.Batch,
            lambda: public_batch(BATCH, datetime(2026, 11, 30, tzinfo=UTC)),
        ),
        (bodies.Execution, lambda: public_execution(EXECUTION)),
        (bodies.Agent, lambda: agent_service.public(Agent(tenant_id="t", agent_id="a"))),
        (bodies.WebhookDelivery, lambda: webhook_service.public_delivery({})),
        (bodies.WebhookSecret, lambda: webhook_service.public_secret(Tenant(tenant_id="t", webhook_secret="whsec_x"))),
        (bodies.Erasure, lambda: public_erasure(ERASURE)),
        (
            bodies.AuditEntry,
            lambda: public_entry(
                AuditEntry(tenant_id="t", entry_key="k", entry_id="e", action="batch.run", target="b", at="2026")
            ),
        ),
    ],
)
def test_the_public_shapes_are_the_documented_models(model: type[BaseModel], shown: Any) -> None:
    # Given what the API answers for a minimal item; Then it has exactly the model's fields and validates
    answer = shown()
    assert set(answer) == fields(model)
    model.model_validate(answer)


def test_the_error_body_is_what_every_error_answers() -> None:
    from chalicelib.api.http import error_response
    from chalicelib.errors import Conflict

    response = error_response(Conflict("busy", details=[{"field": "x"}]))
    bodies.ErrorBody.model_validate_json(response.body)
    assert response.status_code == 409


@pytest.mark.parametrize(
    "model", [AgentFields, AgentCreate, SimulatorConfig, TwilioConfig, HttpAgentConfig, RetryConfig]
)
def test_every_agent_field_is_described(model: type[BaseModel]) -> None:
    # So that each field's meaning reaches the OpenAPI document and /docs
    undocumented = [name for name, info in model.model_fields.items() if not info.description]
    assert not undocumented, f"{model.__name__}: {undocumented}"


def test_agent_fields_reach_the_document_with_their_defaults() -> None:
    # Given the document's AgentCreate; Then every field but the required name shows its default and meaning
    properties = document()["components"]["schemas"]["AgentCreate"]["properties"]
    assert set(properties) == set(AgentCreate.model_fields)
    assert all(prop.get("description") for prop in properties.values())
    assert {name for name, prop in properties.items() if "default" not in prop} == {"name"}
    assert (properties["call_start_hour"]["default"], properties["call_end_hour"]["default"]) == (9, 21)
    assert properties["call_days"]["default"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_every_link_names_an_operation_and_one_of_its_parameters() -> None:
    operations = {op["operationId"]: op for item in document()["paths"].values() for op in item.values()}
    for op in operations.values():
        for reply in op["responses"].values():
            for link in reply.get("links", {}).values():
                target = operations[link["operationId"]]
                names = {p["name"] for p in target.get("parameters", [])}
                assert set(link["parameters"]) <= names, link
