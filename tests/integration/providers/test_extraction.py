"""What a campaign exists to collect: an agent's extraction schema goes to the voice agent, the answers it reports
come back in the execution, the webhook, the CSV export and the batch's breakdown, counted exactly once."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.records import Execution
from chalicelib.services.container import Dependencies
from tests.support.batches import create_and_run, is_completed, patch_agent
from tests.support.providers import executions, post_callback, settle, start_batch, use_provider
from tests.support.pump import Pump
from tests.support.voice_agent import VoiceAgent
from tests.support.webhooks import Receiver, receiver
from tests.unit.domain.test_execution_object import BOLNA_EXAMPLE, keys

__all__ = ["receiver"]  # a fixture

SCHEMA = [
    {"name": "interested", "type": "category", "values": ["yes", "no", "maybe"], "description": "Wants the offer?"},
    {"name": "appointment_booked", "type": "boolean"},
    {"name": "callback_day", "type": "text"},
]
ANSWERS = [
    {"interested": "yes", "appointment_booked": True, "callback_day": "Friday"},
    {"interested": "no", "appointment_booked": False},
    {"interested": "yes", "appointment_booked": "maybe"},  # a boolean as text: kept, flagged, not counted
    {"interested": "perhaps", "callback_day": "Monday"},  # outside the category: kept, flagged, not counted
]


@pytest.fixture
def extracting_agent(client: Client, tenant: tuple[str, str], voice_agent: VoiceAgent, receiver: Receiver) -> None:
    """The tenant's agent: an HTTP voice agent with SCHEMA, each call's end posted to the receiver's /calls."""
    use_provider(
        client,
        tenant,
        "http",
        provider_config={"endpoint": voice_agent.url},
        extraction_schema=SCHEMA,
        webhook_url=receiver.url + "/calls",
    )


def get(client: Client, path: str, auth: dict[str, str]) -> Any:
    response = client.http.get(path, headers=auth)
    assert response.status_code == 200, response.body
    return json.loads(response.body) if not path.endswith(".csv") else response.body.decode()


def report(client: Client, execution: Execution, payload: dict[str, Any]) -> None:
    headers, body = VoiceAgent.signed({"call_id": execution.provider_call_id, **payload})
    assert post_callback(client, "http", execution.execution_id, headers, body) == 204


def test_the_call_request_asks_for_the_schema_in_bolnas_shape(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    # Given an HTTP agent that declares an extraction schema
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url}, extraction_schema=SCHEMA)
    # When a call is placed
    settle(deps, pump, start_batch(client, tenant, 1))
    # Then the request carries the questions in words and as JSON
    [(_, body)] = voice_agent.received
    assert "- interested (one of 'yes', 'no', 'maybe'): Wants the offer?" in body["extraction_prompt"]
    assert [f["name"] for f in body["extraction_schema"]] == ["interested", "appointment_booked", "callback_day"]


def test_the_call_request_asks_for_the_schema_in_blands_shape(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    config = {"endpoint": voice_agent.url, "extraction_format": "bland", "request_fields": {"to": "phone_number"}}
    use_provider(client, tenant, "http", provider_config=config, extraction_schema=SCHEMA)
    settle(deps, pump, start_batch(client, tenant, 1))
    [(_, body)] = voice_agent.received
    assert body["phone_number"] == "+12025550100"
    assert body["analysis_schema"] == {
        "interested": "string",
        "appointment_booked": "boolean",
        "callback_day": "string",
    }
    assert body["dispositions"] == ["yes", "no", "maybe"] and body["summary_prompt"]


@pytest.mark.usefixtures("extracting_agent")
def test_reported_answers_reach_the_execution_the_webhook_the_csv_and_the_batch_breakdown(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    receiver: Receiver,
) -> None:
    # Given an HTTP agent with an extraction schema, and a batch of four with a per-call webhook
    batch_id = start_batch(client, tenant, len(ANSWERS))
    placed = sorted(settle(deps, pump, batch_id), key=lambda e: e.seq)
    # When the voice agent reports each call's end with its answers and a summary (every event delivered twice)
    pump.duplicate = lambda name, body: True
    for execution, answers in zip(placed, ANSWERS, strict=True):
        report(
            client,
            execution,
            {"status": "completed", "conversation_duration": 30, "extracted_data": answers, "summary": "Spoke."},
        )
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=1)
    auth = {"Authorization": f"Bearer {tenant[0]}"}
    # Then GET /executions/{id} shows each report as sent, misfits flagged
    shown = [get(client, f"/executions/{e.execution_id}", auth) for e in placed]
    assert [s["extracted_data"] for s in shown] == ANSWERS
    assert [s["summary"] for s in shown] == ["Spoke."] * 4
    assert [[(x["field"], x["value"]) for x in s["extraction_errors"]] for s in shown] == [
        [],
        [],
        [("appointment_booked", "maybe")],
        [("interested", "perhaps")],
    ]
    # And the batch's breakdown counts exactly the valid categorical answers, once each despite the duplicates
    batch = get(client, f"/batches/{batch_id}", auth)
    assert batch["extraction_breakdown"] == {
        "interested": {"no": 1, "yes": 2},
        "appointment_booked": {"true": 1, "false": 1},
    }
    # And the CSV export has the summary and one column per declared field
    rows = list(csv.DictReader(io.StringIO(get(client, f"/batches/{batch_id}/executions.csv", auth))))
    assert [(r["interested"], r["appointment_booked"], r["callback_day"], r["summary"]) for r in rows] == [
        ("yes", "true", "Friday", "Spoke."),
        ("no", "false", "", "Spoke."),
        ("yes", "maybe", "", "Spoke."),
        ("perhaps", "", "Monday", "Spoke."),
    ]
    # And each call.ended webhook carries them, exactly as GET /executions/{id} shows them
    pump.duplicate = lambda name, body: False
    pump.run()
    by_execution = {r.payload["id"]: r.payload for r in receiver.received if r.path == "/calls"}
    assert [by_execution[s["id"]]["extracted_data"] for s in shown] == ANSWERS
    assert all(by_execution[s["id"]]["extraction_errors"] == s["extraction_errors"] for s in shown)


def test_bolnas_own_execution_payload_round_trips_through_a_callback(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, voice_agent: VoiceAgent
) -> None:
    # Given an HTTP agent mapped to Bolna's payload (its call id is `id`, its duration `conversation_time`)
    fields = {"call_id": "id", "duration": "conversation_time", "recording_url": "telephony_data.recording_url"}
    use_provider(client, tenant, "http", provider_config={"endpoint": voice_agent.url, "event_fields": fields})
    [execution] = settle(deps, pump, start_batch(client, tenant, 1))
    # When Bolna's documented example is what the voice agent reports, for this call
    example = {**BOLNA_EXAMPLE, "id": execution.provider_call_id, "answered_by_voice_mail": False}
    report(client, execution, example)
    pump.run()
    # Then our execution object has every key of Bolna's, with Bolna's values where they describe the call
    shown = get(client, f"/executions/{execution.execution_id}", {"Authorization": f"Bearer {tenant[0]}"})
    assert keys(BOLNA_EXAMPLE) <= keys(shown)
    same = ("conversation_time", "total_cost", "transcript", "cost_breakdown", "extracted_data", "transfer_call_data")
    assert {k: shown[k] for k in same} == {k: example[k] for k in same}
    ours = {"hosted_telephony", "to_number", "from_number"}  # our calls, our numbers
    telephony = {k: v for k, v in shown["telephony_data"].items() if k not in ours}
    assert telephony == {k: v for k, v in example["telephony_data"].items() if k not in ours} | {
        "provider": "http",
        "provider_call_id": execution.provider_call_id,
    }
    assert shown["batch_run_details"]["status"] == "completed" and shown["batch_run_details"]["retried"] == 0


def test_a_simulated_campaign_fills_the_schema_and_the_breakdown_equals_the_executions_values(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump
) -> None:
    # Given the simulator agent with an extraction schema, and every queue message delivered twice
    patch_agent(client, tenant, extraction_schema=SCHEMA)
    pump.duplicate = lambda name, body: True
    # When a batch of 30 runs to completion
    batch_id, auth = create_and_run(client, tenant, 30)
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=5)
    # Then the answered calls carry answers, and the breakdown is the count of the executions' values
    rows = executions(deps, batch_id)
    answered = [e for e in rows if e.extracted_data]
    assert answered and all(e.summary for e in answered)
    counted: dict[str, Counter[str]] = {"interested": Counter(), "appointment_booked": Counter()}
    for e in answered:
        data = e.extracted_data or {}
        counted["interested"][data["interested"]] += 1
        counted["appointment_booked"][str(data["appointment_booked"]).lower()] += 1
    breakdown = get(client, f"/batches/{batch_id}", auth)["extraction_breakdown"]
    assert breakdown == {name: dict(values) for name, values in counted.items()}
    assert sum(breakdown["interested"].values()) == len(answered)


@pytest.mark.usefixtures("extracting_agent")
def test_bolnas_completed_event_after_call_disconnected_still_brings_its_answers(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    receiver: Receiver,
) -> None:
    # Given an HTTP agent with an extraction schema and a per-call webhook
    [execution] = settle(deps, pump, start_batch(client, tenant, 1))
    # When the voice agent reports as Bolna does: `call-disconnected` the moment the line drops (no data yet),
    # then `completed` with the processed results (each delivered twice)
    pump.duplicate = lambda name, body: True
    report(client, execution, {"status": "call-disconnected", "conversation_duration": 30})
    pump.run()
    answers = {"interested": "maybe", "appointment_booked": True}
    report(client, execution, {"status": "completed", "extracted_data": answers, "summary": "Will think."})
    pump.run()
    pump.duplicate = lambda name, body: False
    pump.run()
    # Then the execution has the late answers and summary, and keeps what the first event said
    shown = get(client, f"/executions/{execution.execution_id}", {"Authorization": f"Bearer {tenant[0]}"})
    assert (shown["status"], shown["conversation_time"]) == ("completed", 30)
    assert (shown["extracted_data"], shown["summary"]) == (answers, "Will think.")
    # And the batch counts them once
    batch = deps.batches.find(execution.batch_id)
    assert batch is not None and batch.status == "completed"
    shown_batch = get(client, f"/batches/{execution.batch_id}", {"Authorization": f"Bearer {tenant[0]}"})
    assert shown_batch["extraction_breakdown"] == {"interested": {"maybe": 1}, "appointment_booked": {"true": 1}}
    # And the webhook receiver gets call.ended, then (once) call.updated carrying the answers
    events = [(r.headers["x-batchcall-event"], r.payload["extracted_data"]) for r in receiver.received if r.nth == 1]
    assert events == [("call.ended", None), ("call.updated", answers)]
