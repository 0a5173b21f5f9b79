"""A Twilio campaign through the local stack over real HTTP: the SDK talks to a fake Twilio on 127.0.0.1,
and signed status callbacks come back to the stack's own URL, as Twilio would send them."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
import requests

from tests.support.e2e import wait_until
from tests.support.fake_twilio import FakeTwilio


def test_a_twilio_batch_runs_to_completion_on_signed_callbacks(
    stack: Any,
    http: requests.Session,
    monkeypatch: pytest.MonkeyPatch,
    logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(
        logging.INFO
    )  # every library's records at the deployed level (the Twilio SDK logs requests at INFO)
    from chalicelib.settings import get_settings

    url = stack.api_url
    fake = FakeTwilio()
    with fake.running():
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake.account_sid)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", fake.auth_token)
        monkeypatch.setattr(get_settings(), "twilio_api_base_url", fake.url)
        # Given an agent on Twilio
        agent = http.post(
            f"{url}/agents",
            json={
                "name": "Twilio agent",
                "provider": "twilio",
                "from_phone_numbers": ["+12025550147"],
                "call_start_hour": 0,
                "call_end_hour": 24,
                "calls_per_second": 50,
                "welcome_message": "Hello {customer_name}",
            },
            timeout=10,
        )
        assert agent.status_code == 201, agent.text
        csv_text = "contact_number,customer_name\n+12025550101,Ann\n+12025550102,Bob\n"
        created = http.post(
            f"{url}/batches",
            data={"agent_id": agent.json()["id"]},
            files={"file": ("c.csv", csv_text.encode(), "text/csv")},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        batch_id = created.json()["batch_id"]
        # When it runs, Twilio is asked for both calls with callbacks to the stack's own URL
        assert http.post(f"{url}/batches/{batch_id}/run", timeout=10).status_code == 200
        wait_until(lambda: len(fake.calls) == 2, 30, "two Twilio calls")
        callbacks = [call["StatusCallback"][0] for call in fake.calls]
        assert all(c.startswith(f"{url}/providers/twilio/events?execution_id=") for c in callbacks)
        # A forged callback is refused over HTTP too
        forged, body = FakeTwilio(auth_token="0" * 32).callback(callbacks[0], "CA1", "completed")
        assert requests.post(callbacks[0], data=body, headers=forged, timeout=10).status_code == 403
        # And Twilio's genuine callbacks finish the calls and the batch
        for callback in callbacks:
            for status, extra in (("ringing", {}), ("in-progress", {}), ("completed", {"CallDuration": "31"})):
                headers, body = fake.callback(callback, "CA" + "0" * 32, status, **extra)
                answer = requests.post(callback, data=body, headers=headers, timeout=10)
                assert answer.status_code == 204, answer.text
        wait_until(
            lambda: http.get(f"{url}/batches/{batch_id}", timeout=10).json()["status"] == "completed", 30, "completion"
        )
        rows = http.get(f"{url}/batches/{batch_id}/executions", timeout=10).json()
        assert sorted(r["status"] for r in rows) == ["completed", "completed"]
        assert {r["conversation_duration"] for r in rows} == {31}
    # And neither the service's logs nor any library's hold the auth token or a full phone number
    text = logs.getvalue() + "\n".join(r.getMessage() for r in caplog.records)
    assert "call placed" in text
    for secret in (fake.auth_token, "+12025550101", "2025550101", "+12025550102"):
        assert secret not in text, secret
