"""Keep-alive connections for the emulator's server: one TCP connection per client, not per request.

Werkzeug's development server closes the connection after every response (it cannot tell whether
the application read the whole request body, so it cannot find the next request line). On the local
stack that made every AWS request a new connection: a connect and a new pooled connection in the
service, an accept and a new thread in the emulator. Real AWS endpoints keep connections alive, and
botocore pools them. This handler knows each request's length (`Content-Length`), reads what the
application left unread, and keeps the connection open; a chunked request body still goes through
Werkzeug's own handler, which closes the connection as before. moto's answers are small and held in
memory anyway: each is sent whole, with its length.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

logger = logging.getLogger(__name__)

_NO_BODY = {204, 304}
_HOP_BY_HOP = {"connection", "transfer-encoding", "keep-alive"}


class LiveConnection(socketserver.StreamRequestHandler):
    """A request handler (mixed in first) whose connection stays open: answers sent at once, and the connection
    known to the server, so that stopping it can close the connection (`close_live`)."""

    def setup(self) -> None:
        super().setup()
        # Headers and body are two writes: without this, Nagle's algorithm holds the body back until
        # the client's delayed ACK of the headers (40 ms a request), which a closing connection never met.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        live(self.server).add(self.connection)

    def handle(self) -> None:
        """Serve the connection's requests; a client that goes away mid-request (a browser page that aborts its
        fetch as it navigates) ends it quietly: socketserver would print the broken pipe's traceback to stderr."""
        try:
            super().handle()
        except ConnectionError:  # BrokenPipeError, ConnectionResetError, ConnectionAbortedError
            self.close_connection = True
            logger.debug("the client at %s went away before its answer was sent", self.client_address[0])

    def finish(self) -> None:
        live(self.server).discard(self.connection)
        super().finish()


class KeepAliveHandler(LiveConnection, WSGIRequestHandler):
    """Werkzeug's handler, answering requests of known length on a connection that stays open."""

    def run_wsgi(self) -> None:
        length = self.headers.get("Content-Length", "0")
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower() or not length.isdigit():
            self.close_connection = True
            super().run_wsgi()
            return
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        body = LimitedStream(self.rfile, int(length))  # type: ignore[arg-type]  # a buffered reader is an IO
        environ["wsgi.input"] = body
        status, headers, data = self._call(environ)
        code = int(status.split(None, 1)[0])
        self.send_response(code, status.partition(" ")[2])
        names = set()
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
                names.add(name.lower())
        if "content-length" not in names and code not in _NO_BODY and code >= 200:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and code not in _NO_BODY and code >= 200:
            self.wfile.write(data)
        self.wfile.flush()
        body.exhaust()  # what the application did not read: the next request starts after it

    def _call(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        """The application's answer, whole; a 500 (logged, as Werkzeug does) when it raises."""
        answer: list[Any] = []
        written: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            answer[:] = [status, headers]
            return written.append

        try:
            result: Iterable[bytes] = self.server.app(environ, start_response)
            try:
                written.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            self.server.log("error", f"Error on request:\n{traceback.format_exc()}")
            written.clear()
            written.extend(InternalServerError()(environ, start_response))
        return answer[0], answer[1], b"".join(written)


def live(server: Any) -> set[socket.socket]:
    """The server's open client connections (so that stopping it can close them)."""
    connections: set[socket.socket] | None = getattr(server, "live_connections", None)
    if connections is None:
        with _LOCK:
            connections = getattr(server, "live_connections", None)
            if connections is None:
                connections = server.live_connections = set()
    return connections


def close_live(server: Any) -> None:
    """Shut every open client connection: a client's next request then reaches no old server."""
    for connection in list(live(server)):
        with contextlib.suppress(OSError):  # closed already
            connection.shutdown(socket.SHUT_RDWR)


_LOCK = threading.Lock()
