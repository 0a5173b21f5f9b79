"""A local HTTP voice agent (a Bolna/Bland-style single-call API) on 127.0.0.1 that records what it is sent."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook

TOKEN = "va-token-123"
SIGNING_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class VoiceAgent:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []  # (headers, JSON body)
        self.answers: list[tuple[int, dict[str, Any], dict[str, str]]] = []  # scripted, else 200 + call id
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/call"

    def answer_next(self, status: int, body: dict[str, Any], times: int = 1, **headers: str) -> None:
        self.answers.extend((status, body, headers) for _ in range(times))

    @staticmethod
    def signed(payload: dict[str, Any], secret: str = SIGNING_SECRET, msg_id: str | None = None) -> tuple[dict, str]:  # type: ignore[type-arg]
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

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with agent.lock:
                    agent.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status, answer, headers = (
                        agent.answers.pop(0)
                        if agent.answers
                        else (200, {"status": "queued", "call_id": "va-" + uuid.uuid4().hex[:12]}, {})
                    )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    @contextmanager
    def running(self) -> Iterator[VoiceAgent]:
        self.thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
