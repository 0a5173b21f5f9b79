"""The embedded AWS: moto's threaded server on 127.0.0.1, and the environment that points boto3 at it.

Every boto3 client honours `AWS_ENDPOINT_URL`, so once it is set (with dummy
credentials, so nothing ever reaches a real account) the service's own code, Powertools
and the runners all talk to the emulator without knowing it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from chalicelib import aws

from . import EnvPatch
from .fidelity import serialize_dynamodb_writes
from .moto_costs import remove_moto_overheads
from .persist import DurableApp, Store, Summary

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}


class _Server(ThreadedMotoServer):
    """moto's threaded server around a WSGI app of ours (moto's own, or it wrapped by `DurableApp`)."""

    def __init__(self, app: Callable[..., Any], port: int) -> None:
        super().__init__(ip_address=HOST, port=port, verbose=False)
        self._app = app

    def _server_entry(self) -> None:
        self._server = make_server(self._ip_address, self._port, self._app, True)
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.05)  # stop() waits for one poll at most


class Emulator:
    """moto's server plus the process environment that targets it; `stop()` restores the environment.

    With a `data_dir` its state is kept there (`local.persist`): restored at start, every change
    on disk before it is acknowledged, a snapshot at `stop()`. `fresh` deletes what it held first.
    """

    def __init__(
        self, port: int = 0, region: str | None = None, data_dir: Path | str | None = None, fresh: bool = False
    ) -> None:
        self._requested_port = port
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self._fresh = fresh
        self.store: Store | None = None
        env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        self.region = region or env_region or "us-east-1"
        self._server: ThreadedMotoServer | None = None
        self._env = EnvPatch()
        self.port = 0

    @property
    def endpoint_url(self) -> str:
        if not self.port:
            raise RuntimeError("the emulator is not running")
        return f"http://{HOST}:{self.port}"

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
        self.port = server.get_host_and_port()[1]
        for key, value in {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **DUMMY_CREDENTIALS,
        }.items():
            self._env.set(key, value)
        aws.reset()
        logger.info("AWS emulator (moto) on %s", self.endpoint_url)
        return self.endpoint_url

    def reset(self) -> None:
        """Forget every resource (moto's reset API): lets tests share one server and still start clean."""
        if self.store is not None:
            raise RuntimeError("a durable emulator is not reset: start it with fresh=True")
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        """Stop the server (joins its thread, closes the socket) and put the environment back."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        store, self.store = self.store, None
        if store is not None:
            store.close()
        self._env.restore()
        self.port = 0
        aws.reset()

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
