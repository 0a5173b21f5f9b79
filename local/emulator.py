"""The embedded AWS: moto's threaded server on 127.0.0.1, and the environment that points boto3 at it.

Every boto3 client honours `AWS_ENDPOINT_URL`, so once it is set (with dummy
credentials, so nothing ever reaches a real account) the service's own code, Powertools
and the runners all talk to the emulator without knowing it.
"""

from __future__ import annotations

import logging
import os
from types import TracebackType

import requests
from moto.server import ThreadedMotoServer

from chalicelib import aws

from . import EnvPatch
from .fidelity import serialize_dynamodb_writes

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}


class Emulator:
    """moto's server plus the process environment that targets it; `stop()` restores the environment."""

    def __init__(self, port: int = 0, region: str | None = None) -> None:
        self._requested_port = port
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

    def start(self) -> str:
        """Start the server, point the environment at it and drop cached clients; returns the endpoint."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        serialize_dynamodb_writes()  # the server is threaded: conditional writes must not race
        server = ThreadedMotoServer(ip_address=HOST, port=self._requested_port, verbose=False)
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
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        """Stop the server (joins its thread, closes the socket) and put the environment back."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
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
