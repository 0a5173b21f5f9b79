"""The embedded AWS: moto's threaded server on 127.0.0.1 in this process (`local.emulator_base` points boto3 at it)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from .emulator_base import HOST, EmulatorBase
from .fidelity import serialize_dynamodb_writes
from .keepalive import KeepAliveHandler, close_live
from .moto_costs import remove_moto_overheads
from .persist import DurableApp, Store, Summary

logger = logging.getLogger(__name__)


class _Server(ThreadedMotoServer):
    """moto's threaded server around a WSGI app of ours (moto's own, or it wrapped by `DurableApp`)."""

    def __init__(self, app: Callable[..., Any], port: int) -> None:
        super().__init__(ip_address=HOST, port=port, verbose=False)
        self._app = app

    def _server_entry(self) -> None:
        self._server = make_server(self._ip_address, self._port, self._app, True, request_handler=KeepAliveHandler)
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.05)  # stop() waits for one poll at most

    def stop(self) -> None:
        """Stop serving, then close the kept-alive connections (their threads would answer otherwise)."""
        super().stop()
        if self._server is not None:
            close_live(self._server)


class Emulator(EmulatorBase):
    """moto's server plus the process environment that targets it; `stop()` restores the environment.

    With a `data_dir` its state is kept there (`local.persist`): restored at start, every change
    on disk before it is acknowledged, a snapshot at `stop()`. `fresh` deletes what it held first.
    """

    def __init__(
        self, port: int = 0, region: str | None = None, data_dir: Path | str | None = None, fresh: bool = False
    ) -> None:
        super().__init__(port, region, data_dir, fresh)
        self.store: Store | None = None
        self._server: ThreadedMotoServer | None = None

    @property
    def pid(self) -> int | None:
        """The process that serves: this one."""
        return os.getpid() if self.port else None

    @property
    def summary(self) -> Summary | None:
        """What the data directory held at start (None without one)."""
        return self.store.summary if self.store is not None else None

    def start(self) -> str:
        """Start the server, point the environment at it and drop cached clients; returns the endpoint."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        serialize_dynamodb_writes()  # the server is threaded: conditional writes must not race
        remove_moto_overheads()  # costs that grow with the emulator's state, which AWS does not have
        app: Callable[..., Any] = DomainDispatcherApplication(create_backend_app)
        if self.data_dir is not None:
            self.store = Store(self.data_dir).open(app, fresh=self._fresh)
            app = DurableApp(app, self.store)
        server = _Server(app, self._requested_port)
        server.start()
        self._server = server
        self._target(server.get_host_and_port()[1])
        logger.info("AWS emulator (moto) on %s", self.endpoint_url)
        return self.endpoint_url

    def stop(self) -> None:
        """Stop the server (joins its thread, closes the socket) and put the environment back."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        store, self.store = self.store, None
        if store is not None:
            store.close()
        self._untarget()
