"""The one HTTP server the tests run on 127.0.0.1:0: fakes of third-party APIs and the webhook receiver.

`LocalServer` serves POSTs in a daemon thread and leaves the answer to `respond(request)`; `JsonServer`
answers with a JSON body (the fakes of Twilio and of a voice agent).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class LocalServer:
    """Subclasses answer each POST in `respond(request)`; None answers nothing (the connection just ends)."""

    path = ""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def respond(self, request: BaseHTTPRequestHandler) -> Response | None:
        raise NotImplementedError

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @contextmanager
    def running(self) -> Iterator[Self]:
        self.start()
        try:
            yield self
        finally:
            self.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                response = server.respond(self)
                if response is None:
                    return
                try:
                    self.send_response(response.status)
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
                except OSError:  # the client gave up (a timeout under test): nothing to answer
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


class JsonServer(LocalServer):
    """Subclasses answer each POST in `answer(request) -> (status, JSON body, extra headers)`."""

    def answer(self, request: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any], dict[str, str]]:
        raise NotImplementedError

    def respond(self, request: BaseHTTPRequestHandler) -> Response:
        status, body, headers = self.answer(request)
        extra = {name.replace("_", "-"): value for name, value in headers.items()}
        return Response(status, json.dumps(body).encode(), {"Content-Type": "application/json", **extra})
