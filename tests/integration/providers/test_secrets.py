"""Provider credentials: one SSM SecureString per tenant and name in AWS, environment variables locally."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.adapters.secrets import MissingSecret, Secrets
from chalicelib.services.container import Dependencies
from tests.support.pump import Pump

KEYS = ("account_sid", "auth_token")


def put(deps: Dependencies, tenant: str, name: str, value: str) -> None:
    aws.ssm().put_parameter(Name=deps.settings.secret_path(tenant, name), Value=value, Type="SecureString")


def test_ssm_credentials_are_per_tenant(deps: Dependencies, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given tenant-a's Twilio credentials in SSM
    monkeypatch.setattr(deps.settings, "secrets_backend", "ssm")
    put(deps, "tenant-a", "twilio", json.dumps({"account_sid": "AC1", "auth_token": "tok"}))
    secrets = Secrets(deps.settings)
    # Then tenant-a reads them, and tenant-b, asking for the same name, does not
    assert secrets.get("tenant-a", "twilio", KEYS) == {"account_sid": "AC1", "auth_token": "tok"}
    with pytest.raises(MissingSecret, match="no SSM parameter /batchcall/test/secrets/tenant-b/twilio"):
        secrets.get("tenant-b", "twilio", KEYS)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"account_sid": "AC1"}', "lack auth_token"),
        ("not json", "is not a JSON object"),
        ('["AC1", "tok"]', "is not a JSON object"),
    ],
)
def test_unusable_ssm_credentials_are_reported_not_crashed_on(
    deps: Dependencies, monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setattr(deps.settings, "secrets_backend", "ssm")
    put(deps, "tenant-a", "twilio", value)
    with pytest.raises(MissingSecret, match=message):
        Secrets(deps.settings).get("tenant-a", "twilio", KEYS)


def test_env_credentials_and_names(deps: Dependencies, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC9")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t9")
    secrets = Secrets(deps.settings)
    assert secrets.get("any", "twilio", KEYS) == {"account_sid": "AC9", "auth_token": "t9"}
    with pytest.raises(MissingSecret, match="lack account_sid, auth_token"):
        secrets.get("any", "twilio-eu", KEYS)
    with pytest.raises(MissingSecret, match="not a credentials name"):
        secrets.get("any", "../other-tenant/twilio", KEYS)


def test_a_call_whose_credentials_are_missing_ends_in_error_with_the_reason(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support.providers import executions, settle, start_batch, use_provider

    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    use_provider(client, tenant, "twilio", provider_config={"credentials": "twilio-missing"})
    [execution] = settle(deps, pump, start_batch(client, tenant, 1))
    assert execution.status == "error"
    assert "credentials 'twilio-missing' lack account_sid, auth_token" in str(execution.error_message)
    assert executions(deps, execution.batch_id)[0].status == "error"
