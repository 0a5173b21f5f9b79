"""A campaign on an HTTP voice agent whose agent declares an extraction schema, through the local stack over real
HTTP: the fake voice agent is asked for the fields, reports answers on signed callbacks, and the answers come
out in GET /executions/{id}, the CSV export, the per-call webhook and the batch's breakdown."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import pytest
import requests

from tests.support.e2e import wait_until
from tests.support.voice_agent import SIGNING_SECRET, TOKEN, VoiceAgent
from tests.support.webhooks import Receiver

SCHEMA: list[dict[str, Any]] = [
    {"name": "interested", "type": "category", "values": ["yes", "no", "maybe"]},
    {"name": "appointment_booked", "type": "boolean"},
    {"name": "callback_day", "type": "text", "description": "Which day to call back"},
]
# What the fake voice agent answers, by contact: one misfit (a category outside its values)
ANSWERS = {
    "Ann": {"interested": "yes", "appointment_booked": True, "callback_day": "Friday"},
    "Bob": {"interested": "no", "appointment_booked": False},
    "Cy": {"interested": "yes", "appointment_booked": True},
    "Di": {"interested": "someday", "appointment_booked": False},
}


def test_an_http_agents_extracted_data_reaches_every_output(
    stack: Any, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = stack.api_url
    monkeypatch.setenv("HTTP_AGENT_TOKEN", TOKEN)
    monkeypatch.setenv("HTTP_AGENT_SIGNING_SECRET", SIGNING_SECRET)
    voice_agent, receiver = VoiceAgent(), Receiver()
    with voice_agent.running():
        # Given an HTTP agent with an extraction schema and a per-call webhook
        agent = http.post(
            f"{url}/agents",
            json={
                "name": "Extracting agent",
                "provider": "http",
                "provider_config": {"endpoint": voice_agent.url},
                "extraction_schema": SCHEMA,
                "webhook_url": receiver.url + "/calls",
                "call_start_hour": 0,
                "call_end_hour": 24,
            },
            timeout=10,
        )
        assert agent.status_code == 201, agent.text
        assert agent.json()["extraction_schema"][0]["values"] == ["yes", "no", "maybe"]
        rows = "".join(f"+1202555{150 + i:04d},{name}\n" for i, name in enumerate(ANSWERS))
        created = http.post(
            f"{url}/batches",
            data={"agent_id": agent.json()["id"]},
            files={"file": ("c.csv", f"contact_number,customer_name\n{rows}".encode(), "text/csv")},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        batch_id = created.json()["batch_id"]
        # When it runs, each call request asks the voice agent for the fields
        assert http.post(f"{url}/batches/{batch_id}/run", timeout=10).status_code == 200
        wait_until(lambda: len(voice_agent.received) == len(ANSWERS), 30, "four call requests")
        assert all("interested (one of" in body["extraction_prompt"] for _, body in voice_agent.received)
        # And the voice agent reports each call's end with its answers, on signed callbacks to the stack
        for _, body in voice_agent.received:
            answers = ANSWERS[body["user_data"]["customer_name"]]
            payload = {
                "status": "completed",
                "metadata": body["metadata"],
                "conversation_duration": 42,
                "extracted_data": answers,
                "summary": f"Asked about the offer: {answers['interested']}.",
            }
            headers, signed = VoiceAgent.signed(payload)
            answer = requests.post(body["webhook_url"], data=signed, headers=headers, timeout=10)
            assert answer.status_code == 204, answer.text
        wait_until(
            lambda: http.get(f"{url}/batches/{batch_id}", timeout=10).json()["status"] == "completed", 30, "completion"
        )
    # Then GET /executions/{id} shows each contact's answers, the misfit flagged
    listed = http.get(f"{url}/batches/{batch_id}/executions", timeout=10).json()
    shown = {e["context_details"]["recipient_data"]["customer_name"]: e for e in listed}
    for name, answers in ANSWERS.items():
        one = http.get(f"{url}/executions/{shown[name]['id']}", timeout=10).json()
        assert one["extracted_data"] == answers
        assert one["summary"].startswith("Asked about the offer")
    assert [x["field"] for x in shown["Di"]["extraction_errors"]] == ["interested"]
    # And the batch's breakdown equals the count of the executions' valid values
    batch = http.get(f"{url}/batches/{batch_id}", timeout=10).json()
    valid = [a for a in ANSWERS.values() if a["interested"] in ("yes", "no", "maybe")]
    assert batch["extraction_breakdown"] == {
        "interested": dict(Counter(a["interested"] for a in valid)),
        "appointment_booked": dict(Counter(str(a["appointment_booked"]).lower() for a in ANSWERS.values())),
    }
    # And the CSV export has one column per declared field, and the summary
    exported = http.get(f"{url}/batches/{batch_id}/executions.csv", timeout=10)
    assert exported.status_code == 200, exported.text
    by_name = {r["customer_name"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert {n: (r["interested"], r["appointment_booked"], r["callback_day"]) for n, r in by_name.items()} == {
        "Ann": ("yes", "true", "Friday"),
        "Bob": ("no", "false", ""),
        "Cy": ("yes", "true", ""),
        "Di": ("someday", "false", ""),
    }
    assert all(r["summary"] for r in by_name.values())
    # And each call.ended webhook carries the answers as the API shows them
    wait_until(lambda: len({r.payload["id"] for r in receiver.received}) == len(ANSWERS), 30, "four webhooks")
    receiver.close()
    hooked = {r.payload["context_details"]["recipient_data"]["customer_name"]: r.payload for r in receiver.received}
    assert {n: p["extracted_data"] for n, p in hooked.items()} == ANSWERS
