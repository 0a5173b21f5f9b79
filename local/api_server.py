"""Serves a Chalice app over HTTP in a background thread, as `chalice local` does, and stops on demand.

`chalice.local.LocalDevServer` wraps a `ThreadedHTTPServer` (http.server with
`ThreadingMixIn`, daemon request threads), so concurrent requests each get a thread;
`shutdown()` must come from another thread than the one serving, hence the thread
here. As `chalice local` does, the app's class is swapped for one whose
`current_request` is thread-local, otherwise two concurrent requests would read each
other's request. Request lines go to the `local.api_server` logger, not to stderr.

Answers outside the routes are ours, not `chalice local`'s imitation of API Gateway (a 403 whose
body echoes the Authorization header, API key included): an unknown path is a 404 `not_found`, a
known path with a method it does not take a 405 `method_not_allowed` (with `Allow`), both in the
`{"message", "code", "details"}` shape, as the deployed API's gateway responses (infra/stack.py) are.

Connections stay open between requests (Chalice's handler speaks HTTP/1.1), as API Gateway's do: a client's
session (the CLI, the dashboard, the e2e tests) does not connect per request. Safe because every request is
read whole: by its Content-Length, or chunk by chunk when it is chunked (then handed to the app with its
length, as API Gateway does; a length that is not a number is a 400 and the connection closes), an answer to HEAD
carries no body, and stopping the server closes the connections still open (no
answer from a stopped server). Each answer is sent at once (TCP_NODELAY): its headers and body are two writes,
and Nagle's algorithm held the body back for the client's delayed ACK, 40 ms a request on a kept connection.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalChalice, LocalDevServer, LocalGateway, RouteMatcher

from chalicelib.api.http import error_response
from chalicelib.errors import MethodNotAllowed, NotFound, ServiceError
from local.keepalive import LiveConnection, close_live

if TYPE_CHECKING:
    from chalice import Chalice

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
_MAX_LINE = 1024  # a chunk-size or trailer line


def _answer(error: ServiceError, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A gateway answer (the Lambda proxy response form) carrying one of our errors."""
    response = error_response(error)
    response.headers.update(headers or {})
    return response.to_dict()


class _Gateway(LocalGateway):
    """Chalice's local API Gateway, with our answers for requests no route takes."""

    def __init__(self, app_object: Chalice, config: Config) -> None:
        super().__init__(app_object, config)
        self._routes = RouteMatcher(list(app_object.routes))

    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        shown = urlsplit(path).path[:200]  # never the query string
        try:
            route = self._routes.match_route(path).route
        except ValueError:
            return _answer(NotFound(f"no route matches {shown}"))
        methods = self._app_object.routes[route]
        if method not in methods and method != "OPTIONS":  # OPTIONS: Chalice's CORS preflight answer
            allowed = ", ".join(methods)
            return _answer(MethodNotAllowed(f"{shown} takes {allowed}, not {method}"), {"Allow": allowed})
        return super().handle_request(method, path, headers, body)


class _RequestHandler(LiveConnection, ChaliceRequestHandler):
    timeout = 120  # an idle kept-alive connection (and its thread) ends after this long; a request then reconnects

    def __init__(
        self, request: Any, client_address: tuple[str, int], server: HTTPServer, app_object: Chalice, config: Config
    ) -> None:
        self.local_gateway = _Gateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)  # handles the request

    def parse_request(self) -> bool:
        """A chunked body is read whole here and handed on as one of known length, as API Gateway does; a length
        that is not a number is a 400 (where the next request would start is unknown)."""
        if not super().parse_request():
            return False
        self._chunked_body: bytes | None = None
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        if not self.headers.get("Content-Length", "0").strip().isdigit():
            self.send_error(HTTPStatus.BAD_REQUEST)
            return False
        return True

    def _read_chunked(self) -> bool:
        """Decode a chunked body (RFC 9112 7.1), at most `MAX_BODY_BYTES`; trailers are read and dropped."""
        chunks: list[bytes] = []
        size = 0
        try:
            while (length := int(self.rfile.readline(_MAX_LINE).split(b";")[0].strip(), 16)) > 0:
                size += length
                if size > MAX_BODY_BYTES:
                    self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                    return False
                chunks.append(self.rfile.read(length))
                if self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n"):
                    raise ValueError("a chunk longer than its size")
            while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                pass  # a trailer field
        except ValueError:
            self.send_error(HTTPStatus.BAD_REQUEST)
            return False
        self._chunked_body = b"".join(chunks)
        return True

    def _parse_payload(self) -> tuple[dict[str, str], bytes | None]:
        if self._chunked_body is None:
            return super()._parse_payload()
        headers = {name: value for name, value in self.headers.items() if name.lower() != "transfer-encoding"}
        headers["Content-Length"] = str(len(self._chunked_body))
        return headers, self._chunked_body

    def end_headers(self) -> None:
        if self.close_connection:
            self.send_header("Connection", "close")  # the client must not send its next request on it
        super().end_headers()

    def _send_http_response_with_body(self, code: int, headers: Any, body: str | bytes) -> None:
        """HEAD: the headers a GET would get (its Content-Length too), without the body."""
        if self.command != "HEAD":
            super()._send_http_response_with_body(code, headers, body)
            return
        self.send_response(code)
        self.send_header("Content-Length", str(len(body if isinstance(body, bytes) else body.encode("utf-8"))))
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self._send_headers(headers)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a method it has no handler for, a malformed request) in our shape.

        Its HTML page would quote the request line; ours names only the status.
        """
        if code == HTTPStatus.NOT_IMPLEMENTED:  # "Unsupported method": no route takes it
            code = HTTPStatus.METHOD_NOT_ALLOWED
        status = HTTPStatus(code)
        body = {"message": status.phrase.lower(), "code": status.phrase.lower().replace(" ", "_"), "details": []}
        if code == HTTPStatus.METHOD_NOT_ALLOWED:
            body["message"] = f"no route takes the method {self.command}"
        self.log_error("code %d, %s", code, status.phrase)
        self.close_connection = True  # a malformed request: where the next one starts is unknown
        self.send_response(code)
        payload = json.dumps(body).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(payload)


def _thread_local_requests(app: Chalice) -> None:
    """What `chalice.local.create_local_server` does, but safe to repeat.

    Chalice's version re-parents one shared class, so serving the same app a second time
    (a restarted server, a second test) fails with "an inheritance cycle".
    """
    if not isinstance(app, LocalChalice):
        app.__class__ = type(f"Local{type(app).__name__}", (LocalChalice, type(app)), {})


class ApiServer:
    """The Chalice app on http://127.0.0.1:<port>; port 0 picks a free one (see `url`)."""

    def __init__(
        self,
        app: Chalice,
        config: Config | None = None,
        host: str = HOST,
        port: int = 8000,
    ) -> None:
        self._app = app
        self._config = config or Config.create(app_name=app.app_name)
        self._host = host
        self._port = port
        self._server: LocalDevServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def http_server(self) -> HTTPServer:
        if self._server is None:
            raise RuntimeError("the API server is not running")
        return self._server.server

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the API server is not running")
        return f"http://{self._host}:{self._server.server.server_address[1]}"

    def start(self) -> str:
        """Bind (so a busy port fails here, not later) and serve in a daemon thread; returns the URL."""
        _thread_local_requests(self._app)
        server = LocalDevServer(self._app, self._config, self._host, self._port, handler_cls=_RequestHandler)
        self._server = server
        self._thread = threading.Thread(
            target=server.server.serve_forever, kwargs={"poll_interval": 0.2}, name="api-server", daemon=True
        )
        self._thread.start()
        logger.info("API on %s", self.url)
        return self.url

    def stop(self) -> None:
        """Stop accepting (within one poll interval), close the socket, join the thread."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server.server_close()
        close_live(server.server)  # kept-alive connections: their next request reaches no stopped server
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
