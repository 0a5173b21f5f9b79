"""A local HTTP voice agent (a Bolna/Bland-style single-call API) on 127.0.0.1 that records what it is sent."""

from __future__ import annotations

import json
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

from standardwebhooks import Webhook

from tests.support.http_server import JsonServer

TOKEN = "va-token-123"
SIGNING_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class VoiceAgent(JsonServer):
    path = "/call"

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []  # (headers, JSON body)
        self.answers: list[tuple[int, dict[str, Any], dict[str, str]]] = []  # scripted, else 200 + call id
        self.placed: list[tuple[str, str]] = []  # (our reference, its call id) of each call it took, in order
        self.stalls: list[float] = []  # seconds to hold the answer of the next requests (taken, then a timeout)

    def answer_next(self, status: int, body: dict[str, Any], times: int = 1, **headers: str) -> None:
        self.answers.extend((status, body, headers) for _ in range(times))

    @staticmethod
    def signed(payload: dict[str, Any], secret: str = SIGNING_SECRET, msg_id: str | None = None) -> tuple[dict, str]:
        from datetime import UTC, datetime

        body = json.dumps(payload)
        msg_id = msg_id or "msg_" + uuid.uuid4().hex
        now = datetime.now(UTC)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        }
        return headers, body

    def answer(self, request: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any], dict[str, str]]:
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length) or b"{}")
        with self.lock:
            self.received.append(({k.lower(): v for k, v in request.headers.items()}, body))
            stall = self.stalls.pop(0) if self.stalls else 0.0
            scripted = self.answers.pop(0) if self.answers else None
        if stall:
            time.sleep(stall)
        if scripted:
            return scripted
        call_id = "va-" + uuid.uuid4().hex[:12]
        with self.lock:
            self.placed.append((str(body.get("reference", "")), call_id))
        return 200, {"status": "queued", "call_id": call_id}, {}
