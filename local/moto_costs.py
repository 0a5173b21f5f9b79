"""Take out the costs moto has and the real services do not, so the local stack's speed is the service's.

Profiled on a 2,000-call campaign (py-spy, bench/RESULTS.md), moto spent its time on work that grows
with the emulator's own state, not on what a request asks for:

1. SQS `ReceiveMessage` checks each candidate message against the queue's retention period by
   asking for the queue's attributes, which counts every message in the queue three times (the
   approximate visible, in-flight and delayed counts), three times over: a receive of 10 from a
   queue of n messages cost ~100 n. The period is one field of the queue: read it there.
   `SendMessage` builds the same attributes to read one flag (content-based deduplication): the
   counts it never reads are not counted while a message is sent.
2. Every request finds its backend by listing moto's package directory (a stat per service) and
   then matching hundreds of URL patterns; the answer for a host never changes: remember it.
3. DynamoDB `UpdateItem` deep-copies the parsed update expression through `copy`'s generic
   reduce protocol (a third of an update's cost). The tree is plain objects: copy their fields.
   It parses each update expression twice per request (the handler, then the backend), and the
   service sends the same few expressions all day: parse each once and reuse the tree (moto only
   reads it: the validator works on a copy).
4. Every DynamoDB answer is walked attribute by attribute against botocore's shape model to
   write JSON that equals the result moto already holds in wire form (15 ms for a 30-attribute
   item, against 0.1 ms for `json.dumps`; a third of the emulator's time in a campaign). A result
   made only of JSON's own types is written with `json.dumps`; one holding bytes (binary
   attributes), timestamps, decimals or nulls, and every error, still goes through the serializer.

None of them changes an answer: each patched function returns what moto's own would.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Callable
from typing import Any

_applied = False
_APPROXIMATE_COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)


def remove_moto_overheads() -> None:
    """Idempotent: patches moto once per process (in the emulator's process, where moto serves)."""
    global _applied
    if _applied:
        return
    _retention_check_reads_the_period()
    _sending_counts_nothing()
    _backend_lookup_remembered()
    _expression_trees_copied_directly()
    _update_expressions_parsed_once()
    _plain_answers_written_directly()
    _applied = True


def _retention_check_reads_the_period() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import Message, SQSBackend

    def is_message_valid_based_on_retention_period(backend: SQSBackend, queue_name: str, message: Message) -> bool:
        retention_period = int(backend.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())  # type: ignore[operator]

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign,assignment]


def _sending_counts_nothing() -> None:
    from moto.sqs.models import Queue, SQSBackend

    sending = threading.local()
    send_message = SQSBackend.send_message

    @functools.wraps(send_message)
    def send(*args: Any, **kwargs: Any) -> Any:
        sending.active = True
        try:
            return send_message(*args, **kwargs)
        finally:
            sending.active = False

    def uncounted(count: Callable[[Any], int]) -> property:
        return property(lambda queue: 0 if getattr(sending, "active", False) else count(queue))

    for name in _APPROXIMATE_COUNTS:
        setattr(Queue, name, uncounted(getattr(Queue, name).fget))
    SQSBackend.send_message = send  # type: ignore[method-assign]


def _backend_lookup_remembered() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lookup: Callable[[Any, str | None], Any] = DomainDispatcherApplication.get_backend_for_host
    found: dict[str | None, Any] = {}

    @functools.wraps(lookup)
    def get_backend_for_host(dispatcher: Any, host: str | None) -> Any:
        if host not in found:
            found[host] = lookup(dispatcher, host)
        return found[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign,assignment]


def _expression_trees_copied_directly() -> None:
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]  # re-exported, untyped

    def deepcopy_node(node: Any, memo: dict[int, Any]) -> Any:
        copied = object.__new__(type(node))
        memo[id(node)] = copied
        copied.__dict__.update({name: copy.deepcopy(value, memo) for name, value in node.__dict__.items()})
        return copied

    Node.__deepcopy__ = deepcopy_node


_PARSED_MAX = 4096  # distinct update expressions remembered (the service uses a few dozen)


def _update_expressions_parsed_once() -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # untyped

    make: Callable[[str], Any] = UpdateExpressionParser.make
    parsed: dict[str, Any] = {}

    def parse_once(cls: type, expression: str) -> Any:
        tree = parsed.get(expression)
        if tree is None:
            if len(parsed) >= _PARSED_MAX:
                parsed.clear()
            tree = parsed[expression] = make(expression)
        return tree

    UpdateExpressionParser.make = classmethod(parse_once)


_JSON_1_0 = {"Content-Type": "application/x-amz-json-1.0"}  # what moto's serializer sets for DynamoDB


def is_plain_json(value: Any) -> bool:
    """Made only of dicts with string keys, lists, strings, booleans, ints and floats (no None)."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_plain_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(is_plain_json(item) for item in value)
    return isinstance(value, (str, bool, int, float))


def _plain_answers_written_directly() -> None:
    from moto.dynamodb.responses import DynamoResult

    execute_result = DynamoResult.execute_result

    @functools.wraps(execute_result)
    def written_directly(result: Any, context: Any) -> Any:
        if isinstance(result.result, dict) and is_plain_json(result.result):
            return 200, dict(_JSON_1_0), json.dumps(result.result, separators=(",", ":"))
        return execute_result(result, context)

    DynamoResult.execute_result = written_directly  # type: ignore[method-assign,assignment]
