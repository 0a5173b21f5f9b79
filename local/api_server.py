"""Serves a Chalice app over HTTP in a background thread, as `chalice local` does, and stops on demand.

`chalice.local.LocalDevServer` wraps a `ThreadedHTTPServer` (http.server with
`ThreadingMixIn`, daemon request threads), so concurrent requests each get a thread;
`shutdown()` must come from another thread than the one serving, hence the thread
here. As `chalice local` does, the app's class is swapped for one whose
`current_request` is thread-local, otherwise two concurrent requests would read each
other's request. Request lines go to the `local.api_server` logger, not to stderr.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalChalice, LocalDevServer

if TYPE_CHECKING:
    from chalice import Chalice

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"


class _RequestHandler(ChaliceRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


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
