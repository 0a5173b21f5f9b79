"""What the emulator's data directory code shares: the lock changes happen under, where they are logged.

`MUTATE` is held while a change is applied to moto and appended to the log (so the log's order is
the order of application) and while a snapshot is taken (so none is half applied). `record` is the
open store's `append`, or nothing while replaying or stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

MUTATE = threading.RLock()
SERVICES = ("dynamodb", "s3", "sqs", "scheduler")  # the persisted ones

_recorder: Callable[[tuple[Any, ...]], None] | None = None


def set_recorder(recorder: Callable[[tuple[Any, ...]], None] | None) -> None:
    global _recorder
    _recorder = recorder


def record(entry: tuple[Any, ...]) -> None:
    """Append one record to the open store's log (a no-op without one)."""
    if _recorder is not None:
        _recorder(entry)


def backend_dict(service: str) -> Any:
    """moto's backends of one service: {account: {region: backend}}."""
    from moto.backends import get_backend

    return get_backend(service)  # type: ignore[call-overload]
