"""Make moto's DynamoDB as atomic as the real one.

DynamoDB evaluates a condition and applies the write as one step per item, and a
transaction as one step across its items. moto checks and writes in plain Python
without a lock, so two threads can both pass the same condition: a race the real
service never has. Every claim and completion here relies on that atomicity, so the
local stack and the tests serialise moto's DynamoDB writes with one lock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_applied = False


def serialize_dynamodb_writes() -> None:
    """Idempotent: wraps moto's DynamoDB backend write methods once per process."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
    _applied = True


def _locked(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(*args, **kwargs)

    return locked
