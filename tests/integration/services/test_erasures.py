"""An erasure forgets one number across every execution of the tenant: recipient data, transcripts and
recording URLs removed, the number masked, its calls not yet placed canceled, live calls erased once
they end; asked again it changes nothing; another tenant can neither see it nor is touched by it."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from chalicelib import aws
from chalicelib.domain.executions import number_key
from chalicelib.domain.messages import ProviderEvent
from chalicelib.resources import EXECUTIONS, PROVIDER_EVENTS_QUEUE, table_name
from chalicelib.services.container import Dependencies
from chalicelib.store.execution_item import read as read_item
from tests.support.api import post_csv
from tests.support.items import index_entries, item_text
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider

NUMBER = "+12025550100"  # contact Name0 of every batch below
TRANSCRIPT = "Agent: Hello {name}. {name}: please call me on {number} after six"


def csv_of(*indexes: int) -> bytes:
    rows = "".join(f"+1202555{100 + i:04d},Name{i},plan{i}\n" for i in indexes)
    return ("contact_number,customer_name,plan\n" + rows).encode()


def run_batch(client: Client, key: str, agent_id: str, csv: bytes, **fields: str) -> str:
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id, **fields}, csv).body)["batch_id"]
    assert client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    return str(batch_id)


def report_all(deps: Dependencies, pump: Pump, batch_id: str) -> None:
    """The provider reports every live call of the batch: completed, with a transcript and a recording."""
    for execution in deps.executions.iter_batch(batch_id):
        if execution.status == "initiated":
            event = ProviderEvent.of(
                execution.execution_id,
                "simulator",
                f"c-{execution.execution_id}",
                "completed",
                transcript=TRANSCRIPT.format(
                    name=execution.recipient_data["customer_name"], number=execution.user_number
                ),
                recording_url=f"https://recordings.example/{execution.execution_id}.mp3",
            )
            deps.queues.send(PROVIDER_EVENTS_QUEUE, event)
    pump.run()


def completed_batch(client: Client, deps: Dependencies, pump: Pump, scripted: ScriptedProvider, tenant: Any) -> str:
    scripted.report = False
    batch_id = run_batch(client, tenant[0], tenant[1], csv_of(0, 1, 2) + b"+1 202-555-0100,Name0,again\n")
    pump.run(until=lambda: len([e for e in deps.executions.iter_batch(batch_id) if e.status == "initiated"]) == 3)
    report_all(deps, pump, batch_id)
    assert deps.batches.find(batch_id).status == "completed"  # type: ignore[union-attr]
    return batch_id


def items_of(deps: Dependencies, tenant_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in aws.dynamodb().get_paginator("scan").paginate(TableName=table_name(deps.settings, EXECUTIONS)):
        items.extend(i for i in page["Items"] if read_item(i)["tenant_id"] == tenant_id)
    return items


def exports_of(deps: Dependencies, batch_id: str) -> list[str]:
    listed = aws.s3().list_objects_v2(Bucket=deps.blobs.bucket, Prefix=f"exports/tenant-a/{batch_id}/")
    return [obj["Key"] for obj in listed.get("Contents", [])]


def batch_files(deps: Dependencies, tenant_id: str, batch_id: str) -> dict[str, bytes]:
    """Every object of the batch: its own prefix and its exports."""
    found: dict[str, bytes] = {}
    for prefix in (f"batches/{batch_id}/", f"exports/{tenant_id}/{batch_id}/"):
        for obj in aws.s3().list_objects_v2(Bucket=deps.blobs.bucket, Prefix=prefix).get("Contents", []):
            found[obj["Key"]] = aws.s3().get_object(Bucket=deps.blobs.bucket, Key=obj["Key"])["Body"].read()
    return found


def erase(client: Client, key: str, number: str = "+1 (202) 555-0100") -> dict[str, Any]:
    response = client.http.post(
        "/erasures",
        body=json.dumps({"phone_number": number}),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.body
    return dict(json.loads(response.body))


def read(client: Client, key: str, erasure_id: str) -> Any:
    return client.http.get(f"/erasures/{erasure_id}", headers={"Authorization": f"Bearer {key}"})


def test_an_erasure_removes_the_number_everywhere_cancels_its_waiting_calls_and_is_idempotent(
    client: Client,
    deps: Dependencies,
    pump: Pump,
    scripted: ScriptedProvider,
    tenant: tuple[str, str],
    other_tenant: tuple[str, str],
) -> None:
    key = tenant[0]
    # Given a finished batch that called the number (a transcript that quotes it, a recording)
    finished = completed_batch(client, deps, pump, scripted, tenant)
    # and a CSV export of it written to S3
    inline = deps.settings.export_inline_max_rows
    deps.settings = deps.settings.model_copy(update={"export_inline_max_rows": 1})
    assert (
        client.http.get(f"/batches/{finished}/executions.csv", headers={"Authorization": f"Bearer {key}"}).status_code
        == 303
    )
    deps.settings = deps.settings.model_copy(update={"export_inline_max_rows": inline})
    assert exports_of(deps, finished)
    # and another tenant's finished batch with the same number
    theirs = completed_batch(client, deps, pump, scripted, other_tenant)
    # and a running batch in which the number waits for a live-call slot (the batch's only one, held by Name1)
    running = run_batch(client, key, tenant[1], csv_of(1, 0), max_concurrent_calls="1")
    pump.run(until=lambda: any(e.status == "initiated" for e in deps.executions.iter_batch(running)))
    statuses = {e.user_number: e.status for e in deps.executions.iter_batch(running)}
    assert statuses == {"+12025550101": "initiated", NUMBER: "queued"}
    dials_before = len(scripted.dials)
    # When the number is erased (written another way), every control message delivered twice
    pump.duplicate = lambda name, body: name == "dispatcher"
    erasure = erase(client, key)
    assert erasure["status"] == "running" and erasure["phone_number"] == "+1******0100"
    pump.run(advance_seconds=5, until=lambda: json.loads(read(client, key, erasure["id"]).body)["status"] != "running")
    # Then the waiting call was canceled and never dialled, even once the slot was free again
    report_all(deps, pump, running)
    pump.run(advance_seconds=5, until=lambda: deps.batches.find(running).status == "completed")  # type: ignore[union-attr]
    assert [d for d in scripted.dials[dials_before:] if d[0] == NUMBER] == []
    # And no execution of the tenant holds the number, its data, its transcript or its recording
    for item in items_of(deps, "tenant-a"):
        assert "2025550100" not in item_text(item) and "Name0" not in item_text(item)
    erased = [i for i in items_of(deps, "tenant-a") if "erased_at" in read_item(i)]
    assert len(erased) == 2
    assert all("2025550100" not in item_text(i) and "Name0" not in item_text(i) for i in erased)
    # And the API shows the execution erased
    ids = {i["batch_id"]["S"]: i["execution_id"]["S"] for i in erased}
    shown = json.loads(client.http.get(f"/executions/{ids[finished]}", headers={"Authorization": f"Bearer {key}"}).body)
    assert shown["user_number"] == "+1******0100"
    assert shown["transcript"] is None and shown["telephony_data"]["recording_url"] is None
    assert shown["context_details"]["recipient_data"] == {}
    assert (
        json.loads(client.http.get(f"/executions/{ids[running]}", headers={"Authorization": f"Bearer {key}"}).body)[
            "status"
        ]
        == "canceled"
    )
    # And no file of the batch holds the number or its data any more (chunks, row errors; the raw file is gone)
    files = batch_files(deps, "tenant-a", finished)
    assert "contacts/000000.jsonl" in " ".join(files) and not any(k.endswith("/raw") for k in files)
    assert all(b"2025550100" not in body and b"202-555-0100" not in body for body in files.values())
    assert all(b"Name0" not in body for body in files.values())
    assert any(b"Name1" in body for body in files.values())
    errors = json.loads(client.http.get(f"/batches/{finished}/errors", headers={"Authorization": f"Bearer {key}"}).body)
    assert [(e["reason"], e["value"]) for e in errors] == [("duplicate", "+1******0100")]
    # while the other tenant's still do
    assert any(b"2025550100" in body for body in batch_files(deps, "tenant-b", theirs).values())
    # And the export written before is gone, and a new one does not hold the number or its data
    assert exports_of(deps, finished) == []
    csv_text = client.http.get(f"/batches/{finished}/executions.csv", headers={"Authorization": f"Bearer {key}"}).body
    assert b"2025550100" not in csv_text and b"Name0" not in csv_text and b"Name1" in csv_text
    # And the other contacts keep theirs
    assert any("Name1" in item_text(i) and "recordings.example" in item_text(i) for i in items_of(deps, "tenant-a"))
    # And its progress says what it did
    done = json.loads(read(client, key, erasure["id"]).body)
    assert done["status"] == "completed" and done["completed_at"]
    assert (done["executions_erased"], done["calls_canceled"], done["live_calls"]) == (2, 1, 0)
    # And the other tenant's executions with the same number are untouched
    assert sum("+12025550100" in item_text(i) and "Name0" in item_text(i) for i in items_of(deps, "tenant-b")) == 1
    assert len(list(deps.executions.iter_batch(theirs))) == 3
    # When the same number is erased again
    before = sorted(item_text(i) for i in items_of(deps, "tenant-a"))
    again = erase(client, key, NUMBER)
    pump.run()
    # Then nothing changes, and the second request says it erased nothing
    assert sorted(item_text(i) for i in items_of(deps, "tenant-a")) == before
    second = json.loads(read(client, key, again["id"]).body)
    assert (second["status"], second["executions_erased"], second["calls_canceled"]) == ("completed", 0, 0)


def test_a_live_call_is_erased_once_it_ends(
    client: Client, deps: Dependencies, pump: Pump, scripted: ScriptedProvider, tenant: tuple[str, str]
) -> None:
    key = tenant[0]
    # Given the number's call is live
    scripted.report = False
    batch_id = run_batch(client, key, tenant[1], csv_of(0))
    pump.run(until=lambda: any(e.status == "initiated" for e in deps.executions.iter_batch(batch_id)))
    # When it is erased, and the walk looks again while the call is still live
    erasure = erase(client, key)
    pump.run(advance_seconds=30, until=lambda: pump.advanced_seconds >= 90)
    # Then the erasure waits for it
    waiting = json.loads(read(client, key, erasure["id"]).body)
    assert (waiting["status"], waiting["live_calls"]) == ("running", 1)
    # When the call ends (its transcript arrives), the next pass erases it
    report_all(deps, pump, batch_id)
    pump.run(
        advance_seconds=30, until=lambda: json.loads(read(client, key, erasure["id"]).body)["status"] == "completed"
    )
    (execution,) = list(deps.executions.iter_batch(batch_id))
    assert execution.status == "completed" and execution.erased_at
    assert execution.transcript is None and execution.recipient_data == {}
    assert execution.user_number == "+1******0100" and execution.number_key is None


def indexed(deps: Dependencies, key: str) -> list[dict[str, Any]]:
    """What the erasure's index holds for one number."""
    return index_entries(table_name(deps.settings, EXECUTIONS), "by_number_keys", "number_key", key)


def test_the_number_index_holds_only_each_call_s_keys_and_forgets_them_with_the_erasure(
    client: Client, deps: Dependencies, pump: Pump, scripted: ScriptedProvider, tenant: tuple[str, str]
) -> None:
    # Given a finished batch that called the number, and a running one in which it waits (one slot, held by Name1)
    completed_batch(client, deps, pump, scripted, tenant)
    running = run_batch(client, tenant[0], tenant[1], csv_of(1, 0), max_concurrent_calls="1")
    pump.run(until=lambda: any(e.status == "initiated" for e in deps.executions.iter_batch(running)))
    key = number_key("tenant-a", NUMBER)
    # Then the index the erasure reads finds both calls, and holds their keys only (no write of a call but its
    # creation and its erasure rewrites an entry)
    entries = indexed(deps, key)
    assert len(entries) == 2
    assert all(set(entry) == {"number_key", "execution_id"} for entry in entries)
    # When the number is erased, Then the index finds it no more
    erasure = erase(client, tenant[0])
    pump.run(
        advance_seconds=5, until=lambda: json.loads(read(client, tenant[0], erasure["id"]).body)["status"] != "running"
    )
    assert indexed(deps, key) == []


def test_another_tenant_can_neither_read_an_erasure_nor_erase_the_tenants_data(
    client: Client,
    deps: Dependencies,
    pump: Pump,
    scripted: ScriptedProvider,
    tenant: tuple[str, str],
    other_tenant: tuple[str, str],
) -> None:
    # Given tenant A's finished batch and its erasure of another number
    completed_batch(client, deps, pump, scripted, tenant)
    erasure = erase(client, tenant[0], "+12025550101")
    pump.run()
    before = sorted(item_text(i) for i in items_of(deps, "tenant-a"))
    # When tenant B reads A's erasure, and erases A's number itself
    assert read(client, other_tenant[0], erasure["id"]).status_code == 404
    assert json.loads(read(client, other_tenant[0], erasure["id"]).body)["code"] == "erasure_not_found"
    theirs = erase(client, other_tenant[0])
    pump.run()
    # Then A's executions are unchanged, and B's erasure found nothing
    assert sorted(item_text(i) for i in items_of(deps, "tenant-a")) == before
    assert json.loads(read(client, other_tenant[0], theirs["id"]).body)["executions_erased"] == 0


def test_an_erasure_refuses_what_is_not_a_number(client: Client, tenant: tuple[str, str]) -> None:
    for body in ({"phone_number": "12345"}, {"phone_number": NUMBER, "suppress": "yes"}, {}, {"phone": NUMBER}):
        response = client.http.post(
            "/erasures",
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {tenant[0]}", "Content-Type": "application/json"},
        )
        assert response.status_code == 400, body
        assert json.loads(response.body)["code"] == "validation_error"


def test_an_unknown_or_unstorable_erasure_id_is_a_404(client: Client, tenant: tuple[str, str]) -> None:
    for erasure_id in ("nope", "x" * 1500):
        response = read(client, tenant[0], erasure_id)
        assert response.status_code == 404 and json.loads(response.body)["code"] == "erasure_not_found"


def test_an_erasure_asked_to_suppress_keeps_the_number_on_the_do_not_call_list(
    client: Client, tenant: tuple[str, str], pump: Pump
) -> None:
    # When a number is erased with suppress
    key = tenant[0]
    response = client.http.post(
        "/erasures",
        body=json.dumps({"phone_number": "+1 202 555 0199", "suppress": True}),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.body
    pump.run()
    # Then the erasure says so and the number is suppressed, added by the key's label
    erasure = json.loads(read(client, key, json.loads(response.body)["id"]).body)
    assert (erasure["suppress"], erasure["suppressed"], erasure["status"]) == (True, True, "completed")
    entry = client.http.get("/suppressions/%2B12025550199", headers={"Authorization": f"Bearer {key}"})
    assert entry.status_code == 200, entry.body
    assert json.loads(entry.body)["source"] == "api" and json.loads(entry.body)["added_by"] == "local stack"
