"""What both emulators share (moto in this process, or in a child): where they serve, and the environment.

Every boto3 client honours `AWS_ENDPOINT_URL`, so once it is set (with dummy credentials, so
nothing ever reaches a real account) the service's own code, Powertools and the runners all talk
to the emulator without knowing it. `stop()` puts the environment back.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Self

import requests

from chalicelib import aws

from . import EnvPatch

HOST = "127.0.0.1"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}


class EmulatorBase:
    """The port, region and data directory asked for; the endpoint once serving; the environment that targets it."""

    def __init__(
        self, port: int = 0, region: str | None = None, data_dir: Path | str | None = None, fresh: bool = False
    ) -> None:
        self._requested_port = port
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self._fresh = fresh
        env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        self.region = region or env_region or "us-east-1"
        self._env = EnvPatch()
        self.port = 0

    @property
    def endpoint_url(self) -> str:
        if not self.port:
            raise RuntimeError("the emulator is not running")
        return f"http://{HOST}:{self.port}"

    def start(self) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def _target(self, port: int) -> None:
        """Serving on `port`: point the environment at it and drop cached clients."""
        self.port = port
        for key, value in {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **DUMMY_CREDENTIALS,
        }.items():
            self._env.set(key, value)
        aws.reset()

    def _untarget(self) -> None:
        """Stopped: the environment as it was, and no cached client that points at the old port."""
        self._env.restore()
        self.port = 0
        aws.reset()

    def reset(self) -> None:
        """Forget every resource (moto's reset API): lets tests share one server and still start clean."""
        if self.data_dir is not None:
            raise RuntimeError("a durable emulator is not reset: start it with fresh=True")
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
