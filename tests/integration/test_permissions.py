"""infra/permissions.py against the AWS calls each function really makes in representative flows.

A call the code makes but the function's role lacks is an AccessDenied in AWS that moto never raises: record
every call per function (tests/support/iam.py) and check it against that function's Access entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import aws, clock
from chalicelib.adapters import secrets
from chalicelib.services.container import Dependencies
from chalicelib.services.webhooks import current_secret
from chalicelib.settings import get_settings
from chalicelib.workers.sweeper import sweep
from infra.permissions import ACCESS, BATCHES, Access
from tests.integration.services.test_budget import batch, one_dollar_calls
from tests.support.api import post_csv
from tests.support.batches import contacts_csv, create_and_run, patch_agent
from tests.support.fake_twilio import FakeTwilio
from tests.support.iam import CallRecorder, acting, missing
from tests.support.providers import executions, post_callback, use_provider
from tests.support.pump import Pump
from tests.support.uploads import presign
from tests.support.voice_agent import SIGNING_SECRET, TOKEN, VoiceAgent
from tests.support.webhooks import Receiver, Reply, hooks, receiver

PUBLIC = "https://calls.example.test/api"  # PUBLIC_BASE_URL of the test stage: what providers sign

__all__ = ["hooks", "receiver"]


@pytest.fixture
def recorder(hooks: Dependencies, client: Client, monkeypatch: pytest.MonkeyPatch) -> Iterator[CallRecorder]:
    """Every AWS call from now on, attributed to the function making it: the API test client's requests run as
    `api_handler`, the pump's handlers under their own names."""
    recorder = CallRecorder(hooks.settings)
    recorder.install()
    request = client.http.request

    def as_api(*args: Any, **kwargs: Any) -> Any:
        with acting("api_handler"):
            return request(*args, **kwargs)

    monkeypatch.setattr(client.http, "request", as_api)
    yield recorder
    recorder.uninstall()


def report(gaps: list[tuple[str, str, str]]) -> str:
    return "infra/permissions.py lacks:\n" + "\n".join(f"  {f}: {a} on {r}" for f, a, r in gaps)


def test_every_call_the_functions_make_is_allowed_by_their_permissions(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, receiver: Receiver, recorder: CallRecorder
) -> None:
    # Given $1 calls one at a time, an agent budget of $2 a month, a status webhook, a suppressed number
    key, agent_id = tenant
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    receiver.secrets = [str(current_secret(hooks, "tenant-a").webhook_secret)]
    one_dollar_calls(client, tenant, hooks, live=1)
    patch_agent(client, tenant, monthly_max_spend=2, max_attempts_per_number=5)  # + a contact limit
    body = json.dumps({"number": "+12025550102"})
    assert client.http.post("/suppressions", headers=auth, body=body).status_code in (200, 201)
    fields = {"agent_id": agent_id, "status_webhook": f"{receiver.url}/status"}
    batches = [json.loads(post_csv(client, key, fields, contacts_csv(4)).body)["batch_id"] for _ in "ab"]
    # When both run until the agent's month is spent (pausing them), the sweeper runs, they are resumed with a
    # higher budget, paused, resumed, run to the end, exported, stopped, deleted, a file uploaded, a number erased
    for batch_id in batches:
        assert client.http.post(f"/batches/{batch_id}/run", headers=auth).status_code == 200
    pump.run(until=lambda: all(batch(client, hooks, b).status == "paused" for b in batches), advance_seconds=5)
    with acting("sweeper"):
        sweep(hooks)
    patch_agent(client, tenant, monthly_max_spend=100)
    pump.advance(60)
    first, second = batches
    assert client.http.post(f"/batches/{first}/resume", headers=auth).status_code == 200
    assert client.http.post(f"/batches/{first}/pause", headers=auth).status_code == 200
    assert client.http.post(f"/batches/{first}/resume", headers=auth).status_code == 200
    pump.run(until=lambda: batch(client, hooks, first).status == "completed", advance_seconds=5)
    hooks.settings = hooks.settings.model_copy(update={"export_inline_max_rows": 0, "export_sync_max_rows": 0})
    client.http.get(f"/batches/{first}/executions.csv", headers=auth)
    pump.run()
    assert client.http.post(f"/batches/{second}/stop", headers=auth).status_code == 200
    pump.run(advance_seconds=5, until=lambda: batch(client, hooks, second).status in ("stopped", "completed"))
    assert client.http.delete(f"/batches/{first}", headers=auth).status_code in (200, 202, 204)
    upload = presign(client, key, {"agent_id": agent_id, "status_webhook": f"{receiver.url}/status"})
    aws.s3().put_object(Bucket=hooks.blobs.bucket, Key=upload["upload"]["fields"]["key"], Body=contacts_csv(2))
    pump.run()  # the ingest function reads the uploaded file (a client's upload, not a function's call)
    body = json.dumps({"phone_number": "+12025550100"})
    assert client.http.post("/erasures", headers=auth, body=body).status_code == 202
    settle = pump.advanced_seconds + 1800  # retries and webhook retries come due
    pump.run(advance_seconds=60, until=lambda: pump.advanced_seconds > settle)
    with acting("sweeper"):
        sweep(hooks)
    # Then every call each function made is one its role allows
    reached = {"api_handler", "dispatcher", "dialer", "provider_events", "ingest", "exporter", "webhook_sender"}
    assert {f for f, _, _ in recorder.needs} >= reached
    gaps = missing(recorder.needs)
    assert not gaps, report(gaps)


def test_a_call_outside_a_function_s_access_is_reported() -> None:
    # Given a function allowed only GetItem on the batches table
    access = {**ACCESS, "sweeper": Access(items=((BATCHES, ("dynamodb:GetItem",)),))}
    needs = {("sweeper", "dynamodb:GetItem", "table:batches"), ("sweeper", "dynamodb:UpdateItem", "table:batches")}
    # When its calls are checked, Then the UpdateItem is the one gap named
    assert missing(needs, access) == [("sweeper", "dynamodb:UpdateItem", "table:batches")]


def test_callbacks_drops_scheduled_retries_and_ssm_credentials_are_allowed(
    client: Client,
    tenant: tuple[str, str],
    other_tenant: tuple[str, str],
    hooks: Dependencies,
    pump: Pump,
    receiver: Receiver,
    recorder: CallRecorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given provider credentials in SSM, as deployed; a status webhook receiver that fails (its retries outlast
    # SQS's 15-minute delay: schedules); tenant A's agent on Twilio, retrying a no-answer 30 minutes later;
    # tenant B's agent on an HTTP voice agent
    twilio, voice_agent = FakeTwilio(), VoiceAgent()
    ssm_credentials(hooks, monkeypatch, twilio)
    receiver.script = lambda request: Reply(500)
    status_webhook = {"status_webhook": f"{receiver.url}/status"}
    retry = {"enabled": True, "max_retries": 1, "retry_on_statuses": ["no-answer"], "retry_intervals_minutes": [30]}
    with twilio.running(), voice_agent.running():
        use_provider(client, tenant, "twilio", retry_config=retry)
        use_provider(client, other_tenant, "http", provider_config={"endpoint": voice_agent.url})
        # When each places a call, and reports it through the API: Twilio no-answer (a retry 30 minutes later,
        # answered), the voice agent completed
        on_twilio, _ = create_and_run(client, tenant, 1, **status_webhook)
        on_agent, _ = create_and_run(client, other_tenant, 1)
        pump.run(until=lambda: len(twilio.calls) == 1 and len(voice_agent.placed) == 1, advance_seconds=5)
        twilio_callback(client, hooks, twilio, on_twilio, "no-answer")
        [called] = executions(hooks, on_agent)
        headers, body = VoiceAgent.signed({"status": "completed", "call_id": called.provider_call_id})
        assert post_callback(client, "http", called.execution_id, headers, body) == 204
        pump.run(until=lambda: len(twilio.calls) == 2, advance_seconds=60)
        twilio_callback(client, hooks, twilio, on_twilio, "completed")
        # and files dropped in the inbox: one for an unknown agent, one with a bad sidecar (both quarantined),
        # one to start in two hours (a schedule); and a presigned upload whose file never comes (its expiry)
        key, agent_id = tenant
        drops = {"ghost/a.csv": contacts_csv(1), f"{agent_id}/b.json": b"{", f"{agent_id}/b.csv": contacts_csv(1)}
        later = clock.iso(clock.now() + timedelta(hours=2))
        drops |= {
            f"{agent_id}/c.json": json.dumps({"scheduled_at": later}).encode(),
            f"{agent_id}/c.csv": contacts_csv(1),
        }
        for name, content in drops.items():
            aws.s3().put_object(Bucket=hooks.blobs.bucket, Key=f"inbox/{name}", Body=content)
        presign(client, key, {"agent_id": agent_id})
        settle = pump.advanced_seconds + 3600  # the upload's expiry and the webhook's scheduled attempts
        pump.run(advance_seconds=60, until=lambda: pump.advanced_seconds > settle)
    # Then the calls were placed and their callbacks taken, the drops quarantined or scheduled
    assert [e.status for e in executions(hooks, on_twilio)] == ["no-answer", "completed"]
    assert [e.status for e in executions(hooks, on_agent)] == ["completed"]
    quarantined = aws.s3().list_objects_v2(Bucket=hooks.blobs.bucket, Prefix="quarantine/").get("Contents", [])
    assert {o["Key"] for o in quarantined} >= {"quarantine/inbox/ghost/a.csv", f"quarantine/inbox/{agent_id}/b.csv"}
    # And every one of those calls (SSM reads, schedules and what they send) is allowed
    made = {(f, a) for f, a, _ in recorder.needs}
    assert {("api_handler", "ssm:GetParameter"), ("dialer", "ssm:GetParameter")} <= made
    for function in ("api_handler", "provider_events", "webhook_sender", "ingest"):
        assert (function, "scheduler:CreateSchedule") in made, function
    gaps = missing(recorder.needs)
    assert not gaps, report(gaps)


def ssm_credentials(deps: Dependencies, monkeypatch: pytest.MonkeyPatch, twilio: FakeTwilio) -> None:
    """Tenant A's Twilio and tenant B's voice agent credentials as SSM SecureStrings, read as deployed (the
    providers hold the settings the container was built with, the API the copy `hooks` made)."""
    monkeypatch.setattr(secrets, "CACHE_SECONDS", 0)  # one process here: each function reads as its own Lambda
    for settings in (deps.settings, get_settings()):
        monkeypatch.setattr(settings, "secrets_backend", "ssm")
        monkeypatch.setattr(settings, "twilio_api_base_url", twilio.url)
        monkeypatch.setattr(settings, "webhook_allow_private", True)  # the voice agent listens on 127.0.0.1
    stored = {
        ("tenant-a", "twilio"): {"account_sid": twilio.account_sid, "auth_token": twilio.auth_token},
        ("tenant-b", "http_agent"): {"token": TOKEN, "signing_secret": SIGNING_SECRET},
    }
    for (tenant_id, name), value in stored.items():
        path = deps.settings.secret_path(tenant_id, name)
        aws.ssm().put_parameter(Name=path, Value=json.dumps(value), Type="SecureString")


def twilio_callback(client: Client, deps: Dependencies, twilio: FakeTwilio, batch_id: str, status: str) -> None:
    """Twilio's final status callback for the batch's latest attempt, through the API."""
    execution = max(executions(deps, batch_id), key=lambda e: e.attempt)
    url = f"{PUBLIC}/providers/twilio/events?execution_id={execution.execution_id}"
    headers, body = twilio.callback(url, execution.provider_call_id, status, CallDuration="3")
    assert post_callback(client, "twilio", execution.execution_id, headers, body) == 204
