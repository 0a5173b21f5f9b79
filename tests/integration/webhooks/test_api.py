"""The webhook routes: the tenant's secret, its rotation, and a batch's delivery log."""

from __future__ import annotations

import json
from datetime import timedelta

from chalice.test import Client

from chalicelib import clock
from chalicelib.services.container import Dependencies
from chalicelib.services.webhooks import emit_call_event
from tests.support.pump import Pump
from tests.support.webhooks import Receiver, create_batch, execution


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_secret_is_made_on_first_use_and_is_per_tenant(
    client: Client, tenant: tuple[str, str], other_tenant: tuple[str, str]
) -> None:
    first = client.http.get("/webhooks/secret", headers=auth(tenant[0]))
    assert first.status_code == 200
    secret = json.loads(first.body)
    assert secret["secret"].startswith("whsec_") and len(secret["secret"]) == 50
    assert secret["previous_secret_expires_at"] is None
    assert json.loads(client.http.get("/webhooks/secret", headers=auth(tenant[0])).body) == secret
    theirs = json.loads(client.http.get("/webhooks/secret", headers=auth(other_tenant[0])).body)
    assert theirs["secret"] != secret["secret"]
    assert client.http.get("/webhooks/secret").status_code == 401


def test_rotation_replaces_the_secret_and_keeps_the_old_one_for_a_day(
    client: Client, tenant: tuple[str, str], pump: Pump
) -> None:
    pump.freeze()  # the overlap is measured from the rotation's own moment, however slow the machine
    old = json.loads(client.http.get("/webhooks/secret", headers=auth(tenant[0])).body)["secret"]
    response = client.http.post("/webhooks/secret/rotate", headers=auth(tenant[0]))
    assert response.status_code == 200
    rotated = json.loads(response.body)
    assert rotated["secret"] not in (old, None)
    assert rotated["previous_secret_expires_at"] == clock.iso(clock.now() + timedelta(hours=24))
    assert json.loads(client.http.get("/webhooks/secret", headers=auth(tenant[0])).body) == rotated


def test_rotation_before_any_secret_existed_still_works(client: Client, tenant: tuple[str, str]) -> None:
    response = client.http.post("/webhooks/secret/rotate", headers=auth(tenant[0]))
    assert response.status_code == 200
    assert json.loads(response.body)["secret"].startswith("whsec_")


def test_delivery_log_pages_and_is_tenant_checked(
    client: Client,
    tenant: tuple[str, str],
    other_tenant: tuple[str, str],
    hooks: Dependencies,
    pump: Pump,
    receiver: Receiver,
) -> None:
    # Given three delivered call events
    batch = create_batch(client, tenant, hooks, webhook_url=receiver.url + "/hook?token=s3cret")
    for i in range(3):
        emit_call_event(hooks, execution(batch, i), batch, "call.ended")
    pump.run()
    path = f"/batches/{batch.batch_id}/webhooks"
    # When the log is read two rows at a time
    first = client.http.get(path + "?limit=2", headers=auth(tenant[0]))
    assert first.status_code == 200
    cursor = first.headers["X-Next-Cursor"]
    second = client.http.get(f"{path}?limit=2&cursor={cursor}", headers=auth(tenant[0]))
    # Then the pages hold every attempt once, oldest first, with the host only (no query string token)
    rows = json.loads(first.body) + json.loads(second.body)
    assert len(rows) == 3 and "X-Next-Cursor" not in second.headers
    assert len({r["event_id"] for r in rows}) == 3
    assert [r["attempted_at"] for r in rows] == sorted(r["attempted_at"] for r in rows)
    assert set(rows[0]) == {
        "event_id",
        "event",
        "attempt",
        "url_host",
        "outcome",
        "status_code",
        "error",
        "latency_ms",
        "attempted_at",
        "next_try_at",
    }
    assert {(r["event"], r["outcome"], r["status_code"], r["attempt"]) for r in rows} == {
        ("call.ended", "delivered", 200, 1)
    }
    assert "s3cret" not in first.body.decode() + second.body.decode()
    # And another tenant cannot see it, and a cursor that is not ours is a 400
    assert client.http.get(path, headers=auth(other_tenant[0])).status_code == 404
    assert client.http.get(path + "?cursor=nope", headers=auth(tenant[0])).status_code == 400
    assert client.http.get(path + "?limit=0", headers=auth(tenant[0])).status_code == 400
