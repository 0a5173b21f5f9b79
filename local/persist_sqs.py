"""SQS in the data directory: messages are logged as they change, not the requests that change them.

A message is not deterministic to replay (random ids and receipt handles; ReceiveMessage moves its
receive count and visibility), so each change logs the message itself: sent, received, made visible,
moved to its DLQ ("sqs_put", the whole message) or deleted ("sqs_del"); replaying is setting it.
moto's long poll is rebuilt so that `MUTATE` is held for each pass, never while waiting.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from .persist_core import MUTATE, backend_dict, record


def _queue_key(queue: Any) -> tuple[str, str, str]:
    return (queue.account_id, queue.region, queue.name)


def _log_put(queue: Any, message: Any) -> None:
    record(("sqs_put", *_queue_key(queue), message))


def install_hooks() -> None:  # noqa: C901 - five small wrappers, closures over the moto methods they wrap
    """Wrap moto's SQS where messages change (once per process; they log nothing while no store is open)."""
    from moto.sqs.models import Queue, SQSBackend

    if getattr(Queue, "_batchcall_hooked", False):
        return
    add_message = Queue.add_message
    delete_message = Queue.delete_message
    receive_message = SQSBackend.receive_message
    change_visibility = SQSBackend.change_message_visibility
    purge_queue = SQSBackend.purge_queue

    @functools.wraps(add_message)
    def add(queue: Any, message: Any) -> None:
        with MUTATE:
            add_message(queue, message)
            if queue._messages and queue._messages[-1] is message:  # not dropped as a FIFO duplicate
                _log_put(queue, message)

    @functools.wraps(delete_message)
    def delete(queue: Any, receipt_handle: str) -> None:
        with MUTATE:
            gone = [m.id for m in queue._messages if m.had_receipt_handle(receipt_handle)]
            delete_message(queue, receipt_handle)
            if gone:
                record(("sqs_del", *_queue_key(queue), gone))

    @functools.wraps(receive_message)
    def receive(
        backend: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        # moto's long poll, rebuilt so that MUTATE is held for each pass but never while waiting.
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with MUTATE:
                result = receive_message(backend, queue_name, count, 0, visibility_timeout, message_attribute_names)
                queue = backend.get_queue(queue_name)
                if result:
                    ids = {m.id for m in result}
                    for message in queue._messages:
                        if message.id in ids:
                            _log_put(queue, message)
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                return result
            queue.wait_for_messages(min(1.0, remaining))

    @functools.wraps(change_visibility)
    def change(backend: Any, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
        with MUTATE:
            change_visibility(backend, queue_name, receipt_handle, visibility_timeout)
            queue = backend.get_queue(queue_name)
            for message in queue._messages:
                if message.had_receipt_handle(receipt_handle):
                    _log_put(queue, message)

    @functools.wraps(purge_queue)
    def purge(backend: Any, queue_name: str) -> None:
        with MUTATE:
            purge_queue(backend, queue_name)
            record(("sqs_purge", *_queue_key(backend.get_queue(queue_name))))

    for owner, name, hook in (
        (Queue, "add_message", add),
        (Queue, "delete_message", delete),
        (SQSBackend, "receive_message", receive),
        (SQSBackend, "change_message_visibility", change),
        (SQSBackend, "purge_queue", purge),
    ):
        setattr(owner, name, hook)
    Queue._batchcall_hooked = True  # type: ignore[attr-defined]


def release_in_flight() -> int:
    """Make the messages that were in flight at the stop visible now; returns how many.

    In AWS a visibility timeout keeps a message from other consumers while a live one works on
    it. Every consumer of the local stack lived in the stopped process, so none still works on
    one: waiting out the timeout (6 minutes for the control queue, 90 for ingest) would only
    stall the campaign. Delivery stays at least once: the message comes back with its receive
    count (so maxReceiveCount still moves a poison message to its DLQ); a delay that
    `DelaySeconds` set is kept.
    """
    now = time.time() * 1000
    released = 0
    for regions in backend_dict("sqs").values():
        for backend in regions.values():
            for queue in backend.queues.values():
                for message in queue._messages:
                    if message.visible_at > now:
                        message.visible_at = 0.0
                        released += 1
                queue.pending_messages.clear()
    return released


class MessageReplay:
    """Applies SQS records to the installed backends: a message is set (or moved to its DLQ) or deleted."""

    def __init__(self) -> None:
        self.messages: dict[int, dict[str, Any]] = {}  # id(queue) -> {message id: message}
        self.queues: dict[int, Any] = {}
        self.where: dict[str, Any] = {}  # message id -> queue
        self.failed = 0

    def _index(self, key: tuple[str, str, str]) -> tuple[Any, dict[str, Any]] | None:
        account, region, name = key
        queue = backend_dict("sqs")[account][region].queues.get(name)
        if queue is None:
            return None
        index = self.messages.get(id(queue))
        if index is None:
            index = self.messages[id(queue)] = {m.id: m for m in queue._messages}
            self.queues[id(queue)] = queue
            for message_id in index:
                self.where[message_id] = queue
        return queue, index

    def apply(self, entry: tuple[Any, ...]) -> None:
        kind = entry[0]
        found = self._index(entry[1:4])
        if found is None:
            self.failed += 1
            return
        queue, index = found
        if kind == "sqs_put":
            message = entry[4]
            previous = self.where.get(message.id)
            if previous is not None and previous is not queue:  # moved to its DLQ
                self.messages[id(previous)].pop(message.id, None)
            index[message.id] = message
            self.where[message.id] = queue
        elif kind == "sqs_del":
            for message_id in entry[4]:
                message = index.pop(message_id, None)
                self.where.pop(message_id, None)
                if message is not None:
                    queue.deleted_messages.update(message.all_receipt_handles)
        elif kind == "sqs_purge":
            for message_id in index:
                self.where.pop(message_id, None)
            index.clear()

    def finish(self) -> None:
        for key, index in self.messages.items():
            self.queues[key]._messages = list(index.values())
