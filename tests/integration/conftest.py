"""Integration tier: the real service code against moto's in-process AWS, through chalice.test.Client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import aws
from chalicelib.services.admin import seed_demo
from chalicelib.services.container import Dependencies, get_dependencies
from chalicelib.settings import get_settings
from local.bootstrap import create_resources
from local.fidelity import serialize_dynamodb_writes
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider


@pytest.fixture
def deps() -> Iterator[Dependencies]:
    serialize_dynamodb_writes()
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        get_dependencies.cache_clear()
        create_resources(get_settings())
        yield get_dependencies()
        aws.reset()
        get_dependencies.cache_clear()


@pytest.fixture
def app(deps: Dependencies):  # type: ignore[no-untyped-def]
    import app as app_module

    return app_module.app


@pytest.fixture
def client(app) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    with Client(app, stage_name="dev") as c:
        yield c


@pytest.fixture
def tenant(deps: Dependencies) -> tuple[str, str]:
    """(api_key, agent_id) of a seeded tenant."""
    return seed_demo("tenant-a", deps)


@pytest.fixture
def other_tenant(deps: Dependencies) -> tuple[str, str]:
    return seed_demo("tenant-b", deps)


@pytest.fixture
def pump(app, deps: Dependencies) -> Iterator[Pump]:  # type: ignore[no-untyped-def]
    pump = Pump(app, deps)
    yield pump
    pump.close()


@pytest.fixture
def scripted(deps: Dependencies) -> ScriptedProvider:
    provider = ScriptedProvider(deps)
    deps.providers["simulator"] = provider  # type: ignore[assignment]
    return provider
