"""The local stack: the whole service on one laptop, on moto's server, without Docker.

`python -m local` starts it (see `local.stack`). This module holds what the parts
share: a Lambda function's settings read from the Chalice stage config and the fake
Lambda context handed to its handlers (so the SQS and rule runners describe a
function the same way), undoable environment changes, and `wait_until` for tests
and scripts that drive the stack.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalice import Chalice
    from chalice.config import Config

DEFAULT_MEMORY_MB = 128  # Chalice's defaults when config.json says nothing
DEFAULT_TIMEOUT_S = 60


@dataclass(frozen=True)
class FunctionSettings:
    """What Lambda would know about one Chalice function (an event source's handler)."""

    name: str  # the Chalice name: the key in `app.handler_map`
    function_name: str  # the physical Lambda name Chalice deploys: <app>-<stage>-<name>
    region: str
    account_id: str
    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_s: int = DEFAULT_TIMEOUT_S
    reserved_concurrency: int | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"


def function_settings(
    app: Chalice,
    name: str,
    config: Config | None,
    region: str,
    account_id: str,
) -> FunctionSettings:
    """Per-function settings from `stages.<stage>.lambda_functions.<name>` (Chalice's own lookup chain)."""
    stage = config.chalice_stage if config is not None else "dev"
    scoped = config.scope(stage, name) if config is not None else None
    return FunctionSettings(
        name=name,
        function_name=f"{app.app_name}-{stage}-{name}",
        region=region,
        account_id=account_id,
        memory_mb=(scoped.lambda_memory_size if scoped else None) or DEFAULT_MEMORY_MB,
        timeout_s=(scoped.lambda_timeout if scoped else None) or DEFAULT_TIMEOUT_S,
        reserved_concurrency=scoped.reserved_concurrency if scoped else None,
    )


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: None = None
    client_context: None = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    @classmethod
    def for_function(cls, fn: FunctionSettings) -> LambdaContext:
        """A fresh context (new request id, full time budget) for one invocation."""
        return cls(
            function_name=fn.function_name,
            invoked_function_arn=fn.arn,
            memory_limit_in_mb=fn.memory_mb,
            timeout_s=fn.timeout_s,
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class EnvPatch:
    """Changes to `os.environ` that can be undone: the stack runs inside test processes too."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, key: str, value: str) -> None:
        self._saved.setdefault(key, os.environ.get(key))
        os.environ[key] = value

    def setdefault(self, key: str, value: str) -> None:
        if key not in os.environ:
            self.set(key, value)

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()


def wait_until(predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Poll `predicate` until it is truthy or `timeout` passes; returns whether it held.

    Tests and scripts against the stack wait on a condition, never on a fixed sleep.
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
