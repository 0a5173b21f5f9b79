"""Schemathesis against the running local stack, driven by its own /openapi.json.

Every operation gets positive and negative examples (a bounded budget); each answer must not be a
5xx, must have a status the document lists for that operation, and must match the documented body,
content type and headers. The fuzzer works as a tenant of its own so nothing it does (deleting its
agent, rotating its webhook secret) touches the other e2e tests' tenant.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 40  # per operation: ~450 requests, ~30 s on a busy 2-core machine (plus the stack's start)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]


class Tally:
    """Requests made and time spent, printed in pytest's summary (tests/e2e/conftest.py)."""

    requests = 0
    seconds = 0.0
    modes: ClassVar[Counter[str]] = Counter()


@pytest.fixture(scope="module")
def fuzz_tenant(stack: Any) -> dict[str, str]:
    """A tenant of its own with an agent and a created batch, so path parameters can hit real items."""
    from chalicelib.services.admin import seed_demo

    key, agent_id = seed_demo("schemathesis")
    created = requests.post(
        f"{stack.api_url}/batches",
        json={"agent_id": agent_id, "contacts": [{"contact_number": "+12025550100", "customer_name": "Fuzz"}]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return {"key": key, "agent_id": agent_id, "batch_id": created.json()["batch_id"]}


@pytest.fixture(scope="module")
def api_schema(stack: Any, fuzz_tenant: dict[str, str]) -> Any:
    schema = schemathesis.openapi.from_url(f"{stack.api_url}/openapi.json", timeout=30)
    schema.config.update(
        headers={"Authorization": f"Bearer {fuzz_tenant['key']}"},
        parameters={"agent_id": fuzz_tenant["agent_id"], "batch_id": fuzz_tenant["batch_id"]},
    )
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=MAX_EXAMPLES,
        no_shrink=True,
        deterministic=True,
        database="none",
    )
    # The coverage phase alone makes ~1,400 requests (about 80 s here): examples and fuzzing keep the budget.
    schema.config.phases.update(phases=["examples", "fuzzing"])
    return schema


@pytest.fixture(scope="module")
def counted() -> Iterator[requests.Session]:
    session = requests.Session()

    def count(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        Tally.requests += 1

    session.hooks["response"].append(count)
    yield session
    session.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_the_api_keeps_its_contract(case: Any, counted: requests.Session) -> None:
    Tally.modes[case.meta.generation.mode.value if case.meta else "explicit"] += 1
    started = time.monotonic()
    try:
        case.call_and_validate(session=counted, checks=CHECKS, timeout=30)
    finally:
        Tally.seconds += time.monotonic() - started
