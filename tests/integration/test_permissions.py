"""infra/permissions.py against the AWS calls each function really makes in representative flows.

A call the code makes but the function's role lacks is an AccessDenied in AWS that moto never raises: record
every call per function (tests/support/iam.py) and check it against that function's Access entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.services.container import Dependencies
from chalicelib.services.webhooks import current_secret
from chalicelib.workers.sweeper import sweep
from infra.permissions import ACCESS, BATCHES, Access
from tests.integration.services.test_budget import batch, one_dollar_calls
from tests.support.api import post_csv
from tests.support.batches import contacts_csv, patch_agent
from tests.support.iam import CallRecorder, acting, missing
from tests.support.pump import Pump
from tests.support.uploads import presign
from tests.support.webhooks import Receiver, hooks, receiver

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
