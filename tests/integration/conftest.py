"""Integration tier: the real service code against moto's in-process AWS, through chalice.test.Client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import aws
from chalicelib.services.admin import seed_demo
from chalicelib.services.container import Services, get_services
from chalicelib.settings import get_settings
from local.bootstrap import create_resources
from local.fidelity import serialize_dynamodb_writes
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider


@pytest.fixture
def svc() -> Iterator[Services]:
    serialize_dynamodb_writes()
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        get_services.cache_clear()
        create_resources(get_settings())
        yield get_services()
        aws.reset()
        get_services.cache_clear()


@pytest.fixture
def app(svc: Services):  # type: ignore[no-untyped-def]
    import app as app_module

    return app_module.app


@pytest.fixture
def client(app) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    with Client(app, stage_name="dev") as c:
        yield c


@pytest.fixture
def tenant(svc: Services) -> tuple[str, str]:
    """(api_key, agent_id) of a seeded tenant."""
    return seed_demo("tenant-a", svc)


@pytest.fixture
def other_tenant(svc: Services) -> tuple[str, str]:
    return seed_demo("tenant-b", svc)


@pytest.fixture
def pump(app, svc: Services) -> Iterator[Pump]:  # type: ignore[no-untyped-def]
    pump = Pump(app, svc)
    yield pump
    pump.close()


@pytest.fixture
def scripted(svc: Services) -> ScriptedProvider:
    provider = ScriptedProvider(svc)
    svc.providers["simulator"] = provider  # type: ignore[assignment]
    return provider
