"""Make moto's DynamoDB as atomic, and as fast per transaction, as the real one.

1. DynamoDB evaluates a condition and applies the write as one step per item, and a
   transaction as one step across its items. moto checks and writes in plain Python
   without a lock, so two threads can both pass the same condition: a race the real
   service never has. Every claim and completion here relies on that atomicity, so the
   local stack and the tests serialise moto's DynamoDB writes with one lock.
2. moto makes a transaction undoable by deep-copying every table it touches, once per
   item: a 100-item transaction on a 10,000-item table copies a million items. The real
   service's cost does not grow with the table. We snapshot only the items a transaction
   touches (with moto's own `Item` copy, which skips its size check) and undo those on failure,
   which keeps the emulator's cost per transaction flat.
"""

from __future__ import annotations

import copy
import functools
import threading
import types
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_WRITES = ("put_item", "update_item", "delete_item", "batch_write_item")
_applied = False


def serialize_dynamodb_writes() -> None:
    """Idempotent: patches moto's DynamoDB backend once per process."""
    global _applied
    if _applied:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    for name in _WRITES:
        setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))

    inner = models.copy.deepcopy  # copy's own, or local.moto_costs' (each wraps what it finds)

    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else inner(value, memo)

    # moto's only deep copy of a Table is its transaction backup, which _transaction replaces.
    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = _transaction(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
    _applied = True


def _locked(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(*args, **kwargs)

    return locked


def _transaction(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def transact(backend: Any, transact_items: list[dict[str, Any]]) -> Any:
        with _LOCK:
            snapshot = _snapshot(backend, transact_items)
            try:
                return original(backend, transact_items)
            except Exception:
                _restore(backend, snapshot)
                raise

    return transact


def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], Any]]:
    """(table, key, the item's attributes before, or None) for every item the transaction touches."""
    taken = []
    for element in transact_items[:100]:
        op_type, op = next(iter(element.items()))
        if op_type == "ConditionCheck" or op.get("TableName") not in backend.tables:
            continue
        table = backend.tables[op["TableName"]]
        source = op["Item"] if op_type == "Put" else op.get("Key", {})
        key = {table.hash_key_attr: source.get(table.hash_key_attr)}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = source.get(table.range_key_attr)
        if any(v is None for v in key.values()):
            continue
        try:
            item = backend.get_item(op["TableName"], key)
        except Exception:
            continue
        taken.append((op["TableName"], key, copy.deepcopy(item) if item else None))  # moto's own copy of an Item
    return taken


def _restore(backend: Any, snapshot: list[tuple[str, dict[str, Any], Any]]) -> None:
    for table_name, key, before in reversed(snapshot):
        if before is None:
            backend.delete_item.__wrapped__(backend, table_name, key)
        else:
            backend.put_item.__wrapped__(backend, table_name, before.to_json()["Attributes"])
