"""A local stand-in for Twilio's REST API on 127.0.0.1, answering in Twilio's documented shapes.

It serves `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` with HTTP basic auth (the
account SID and auth token), records every request's form parameters, and can be told to
answer the next requests with an error (Twilio's error body: code, message, more_info,
status). `callback()` builds a status callback signed as Twilio signs them, with the SDK's
own RequestValidator, for the tests to deliver to the service.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode

from twilio.request_validator import RequestValidator

from tests.support.http_server import JsonServer

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "f" * 32


@dataclass
class Scripted:
    status: int
    code: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)


class FakeTwilio(JsonServer):
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: list[dict[str, list[str]]] = []  # form parameters of each accepted Calls.create
        self.accepted_at: list[datetime] = []  # the (test-travelled) time of each
        self.requested_at: list[datetime] = []  # every Calls.create, accepted or not
        self.requests = 0
        self.failures: list[Scripted] = []
        self.stalls: list[float] = []  # seconds to hold the answer of the next accepted calls (a timeout)

    def fail_next(self, status: int, code: int, message: str, times: int = 1, **headers: str) -> None:
        self.failures.extend(Scripted(status, code, message, headers) for _ in range(times))

    def callback(self, url: str, call_sid: str | None, status: str, **extra: str) -> tuple[dict[str, str], str]:
        """Headers and form body of a genuine status callback for `url` (Twilio signs URL + sorted params)."""
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call_sid or "",
            "CallStatus": status,
            "Called": "+12025550100",
            "Caller": "+12025550147",
            "Direction": "outbound-api",
            "From": "+12025550147",
            "To": "+12025550100",
            "SequenceNumber": str(extra.pop("SequenceNumber", "0")),
            "CallbackSource": "call-progress-events",
            "Timestamp": "Sun, 22 Nov 2026 10:00:00 +0000",
            **extra,
        }
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
        return headers, urlencode(params)

    def answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any], dict[str, str]]:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            return 401, _error(401, 20003, "Authentication Error - invalid username"), {}
        if handler.path != f"/2010-04-01/Accounts/{self.account_sid}/Calls.json":
            return 404, _error(404, 20404, "The requested resource was not found"), {}
        length = int(handler.headers.get("Content-Length") or 0)
        form = parse_qs(handler.rfile.read(length).decode(), keep_blank_values=True)
        with self.lock:
            self.requests += 1
            self.requested_at.append(datetime.now(UTC))
            if self.failures:
                failure = self.failures.pop(0)
                return failure.status, _error(failure.status, failure.code, failure.message), failure.headers
            self.calls.append(form)
            self.accepted_at.append(datetime.now(UTC))
            stall = self.stalls.pop(0) if self.stalls else 0.0
        if stall:  # the call is created, but the answer comes after the client gave up
            time.sleep(stall)
        sid = "CA" + uuid.uuid4().hex
        body: dict[str, Any] = {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": "2010-04-01",
            "caller_name": None,
            "date_created": None,
            "date_updated": None,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": form["From"][0],
            "from_formatted": form["From"][0],
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": "PN" + "0" * 32,
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {},
            "to": form["To"][0],
            "to_formatted": form["To"][0],
            "trunk_sid": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
            "queue_time": "0",
        }
        return 201, body, {}


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
