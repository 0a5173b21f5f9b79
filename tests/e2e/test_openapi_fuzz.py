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

import hypothesis
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

MAX_EXAMPLES = 30  # per operation: ~600 requests, ~35 s on a busy 2-core machine (plus the stack's start)
WORKFLOWS = 15  # stateful scenarios, each a few linked calls (create -> read, schedule, run, stop, ...)
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
    statuses: ClassVar[Counter[int]] = Counter()


def _agent_and_batch(url: str, key: str, label: str) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    agent = requests.post(f"{url}/agents", json={"name": label}, headers=headers, timeout=30)
    assert agent.status_code == 201, agent.text
    agent_id = agent.json()["id"]
    contacts = [{"contact_number": "+12025550100", "customer_name": "Fuzz"}]
    batch = requests.post(
        f"{url}/batches", json={"agent_id": agent_id, "contacts": contacts}, headers=headers, timeout=30
    )
    assert batch.status_code == 201, batch.text
    return {"agent_id": agent_id, "batch_id": batch.json()["batch_id"]}


@pytest.fixture(scope="module")
def fuzz_tenant(stack: Any) -> dict[str, Any]:
    """A tenant of its own, with an agent and a created batch for the fuzzer to work on, and another
    pair that only the DELETE operations get (so that deleting does not end the other operations' work)."""
    from chalicelib.services.admin import seed_demo

    key, _ = seed_demo("schemathesis")
    return {
        "key": key,
        "keep": _agent_and_batch(stack.api_url, key, "fuzzed"),
        "victim": _agent_and_batch(stack.api_url, key, "deleted"),
    }


def load_schema(stack: Any, fuzz_tenant: dict[str, Any], modes: list[GenerationMode]) -> Any:
    schema = schemathesis.openapi.from_url(f"{stack.api_url}/openapi.json", timeout=30)
    schema.config.update(headers={"Authorization": f"Bearer {fuzz_tenant['key']}"})
    schema.config.generation.update(
        modes=modes,
        max_examples=MAX_EXAMPLES,
        no_shrink=True,
        deterministic=True,
        database="none",
    )
    # The coverage phase alone makes ~1,400 requests (about 80 s here): examples and fuzzing keep the budget.
    schema.config.phases.update(phases=["examples", "fuzzing", "stateful"])
    return schema


@pytest.fixture(scope="module")
def api_schema(stack: Any, fuzz_tenant: dict[str, Any]) -> Any:
    schema = load_schema(stack, fuzz_tenant, [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])

    @schema.hook("map_case")
    def real_ids(context: Any, case: Any) -> Any:
        """Valid data names the tenant's real agent and batch (random ids would only ever meet a 404)."""
        if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
            return case
        ids = fuzz_tenant["victim" if case.method.upper() == "DELETE" else "keep"]
        for name in ("agent_id", "batch_id"):
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = ids[name]
        if case.path.endswith("/all"):  # Bolna's GET /batches/{agent_id}/all
            case.path_parameters["batch_id"] = ids["agent_id"]
        if isinstance(case.body, dict) and "agent_id" in case.body:
            case.body["agent_id"] = ids["agent_id"]
        return case

    return schema


@pytest.fixture(scope="module")
def counted() -> Iterator[requests.Session]:
    session = requests.Session()

    def count(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        Tally.requests += 1
        Tally.statuses[response.status_code] += 1

    session.hooks["response"].append(count)
    yield session
    session.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.timeout(300)  # one test for every operation: ~40 s here, more on a loaded machine
@schema.parametrize()
def test_the_api_keeps_its_contract(case: Any, counted: requests.Session) -> None:
    Tally.modes[case.meta.generation.mode.value if case.meta else "explicit"] += 1
    started = time.monotonic()
    try:
        case.call_and_validate(session=counted, checks=CHECKS, timeout=30)
    finally:
        Tally.seconds += time.monotonic() - started


@pytest.mark.timeout(300)
def test_linked_workflows_keep_the_contract(stack: Any, fuzz_tenant: dict[str, Any], counted: requests.Session) -> None:
    """The document's links (create an agent or a batch, then use its id) driven as a state machine.

    Valid data only: negative data is the other test's, and schemathesis' stateful negative cases can
    trip hypothesis' FlakyStrategyDefinition (schemathesis/schemathesis#4132)."""
    schema = load_schema(stack, fuzz_tenant, [GenerationMode.POSITIVE])

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"session": counted, "timeout": 30}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            Tally.modes["stateful"] += 1
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    started = time.monotonic()
    try:
        Workflow.run(
            settings=hypothesis.settings(
                max_examples=WORKFLOWS,
                stateful_step_count=6,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(hypothesis.HealthCheck),
            )
        )
    finally:
        Tally.seconds += time.monotonic() - started
