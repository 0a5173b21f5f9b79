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
5. Every attribute an update sets re-measures the whole item (moto's 400 KB check), and moto's
   `DynamoType.size` builds a new `DynamoType` for every value in a map, recursively: a quarter of
   the emulator's time in a campaign. The same sizes are summed without building anything.
6. Each expression processor (ten an update expression) rebuilds its node-type map twice for
   every node it visits and tests the node against it through `ABCMeta` (the nodes are ABCs); the
   answer for a processor and a node type never changes: find it once. The expression tree the
   validator works on is copied node by node without `copy`'s dispatch.
7. `UpdateItem` deep-copies the item it updates, for the table's stream alone (the old image):
   a tenth of the emulator's time. Tables without a stream (all of ours) skip the copy.
8. Every request lists its handler class's methods (`inspect.getmembers`: a `getattr` and a sort
   over some hundred names) to find the action; a class's methods do not change: list them once.
9. In process (moto's mock, the tests' stack), every request of a JSON protocol (DynamoDB, SQS) is
   first rebuilt as a werkzeug request (a whole WSGI environ: a sixth of moto's time a request) whose
   body alone the JSON parser reads: the body is parsed as it came. The emulator's server gets
   werkzeug requests and is unchanged.
10. `UpdateItem`'s clause count walks the expression tree three times (ADD, REMOVE, SET clauses):
   counted in one walk, raising the same error first.

None of them changes an answer: each patched function returns what moto's own would.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
import types
from collections import Counter
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
    _item_sizes_summed_directly()
    _expression_trees_walked_directly()
    _handler_methods_listed_once()
    _old_items_copied_for_streams_only()
    _json_bodies_parsed_as_sent()
    _clauses_counted_in_one_walk()
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
        copied.__dict__.update({name: copy_value(value, memo) for name, value in node.__dict__.items()})
        return copied

    def copy_value(value: Any, memo: dict[int, Any]) -> Any:
        """`copy.deepcopy(value, memo)`, with the tree's own nodes, lists and strings copied without its dispatch."""
        if value is None or type(value) in _ATOMIC:
            return value
        if id(value) in memo:  # a parent, copied before its children
            return memo[id(value)]
        if is_a(type(value), Node):
            return deepcopy_node(value, memo)
        if type(value) is list:
            copied: list[Any] = []
            memo[id(value)] = copied
            copied.extend(copy_value(member, memo) for member in value)
            return copied
        return copy.deepcopy(value, memo)

    Node.__deepcopy__ = deepcopy_node


_ATOMIC = frozenset({str, int, float, bool})
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


def dynamo_size(value: Any, normalized: bool = False) -> int:
    """What moto's `DynamoType.size` answers, without building a `DynamoType` per value in a map.

    moto measures a map's members through `DynamoType(member)`, which converts any wire-form value
    below it: `normalized` does the same for the subtree of a map.
    """
    kind, raw = value.type, value.value
    if kind == "S" and type(raw) is str:  # the common case first: what the last branch answers for it
        return len(raw) if raw.isascii() else len(raw.encode("utf-8"))
    if kind == "N":
        return len(str(raw))
    if kind == "M":
        total = 0
        for name, member in raw.items():
            total += _bytesize(name) + dynamo_size(member if type(member) is _DynamoType else _DynamoType(member), True)
        return total
    if kind == "L":
        return _list_size(raw, normalized)
    if kind in _SETS:
        return _set_size(kind, raw)
    if isinstance(raw, bool):
        return 1
    return _bytesize(raw)


def _list_size(members: list[Any], normalized: bool) -> int:
    total = 0
    for member in members:
        if type(member) is _DynamoType:
            total += dynamo_size(member, normalized)
        else:  # wire form: converted below a map, else moto asks the value itself (and fails as it does)
            total += dynamo_size(_DynamoType(member), True) if normalized else member.size()
    return total


def _set_size(kind: str, members: list[Any]) -> int:
    if kind == "NS":
        return sum(len(str(member)) for member in members)
    return sum(1 if isinstance(member, bool) else _bytesize(member) for member in members)


_SETS = frozenset({"SS", "NS", "BS"})
_ITEM_LIMIT = 405000  # moto's, between DynamoDB's measured 409 and 410 KB
_DynamoType: Any = None


def _bytesize(value: str | bytes) -> int:
    return len(value if isinstance(value, bytes) else value.encode("utf-8"))


def _item_sizes_summed_directly() -> None:
    global _DynamoType
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    _DynamoType = DynamoType
    dynamo_size.__wrapped__ = DynamoType.size  # type: ignore[attr-defined]  # moto's own, for the equality tests
    DynamoType.size = dynamo_size  # type: ignore[method-assign,assignment]
    set_item = LimitedSizeDict.__setitem__

    @functools.wraps(set_item)
    def checked_set_item(attributes: dict[str, Any], key: str, value: Any) -> None:
        """moto's check (the item's size, counting the value replaced, plus the new one), with no lists built."""
        current = sum(_measure(name) for name in attributes)
        current += sum(_measure(member) for member in attributes.values())
        if current + _bytesize(key) + _measure(value) > _ITEM_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(attributes, key, value)

    LimitedSizeDict.__setitem__ = checked_set_item  # type: ignore[method-assign]


def _measure(value: Any) -> int:
    return dynamo_size(value) if type(value) is _DynamoType else _bytesize(str(value))


def _expression_trees_walked_directly() -> None:
    """moto's traversal and clause search, with each class test answered once per node type.

    The tree's classes are ABCs, so every `isinstance` goes through `ABCMeta.__instancecheck__`; none
    is registered as a virtual subclass, so the answer for a type never changes.
    """
    global _ast
    from moto.dynamodb.parsing import ast_nodes  # untyped

    _ast = ast_nodes
    _ast.DepthFirstTraverser.traverse_node_recursively = _traverse_node_recursively
    _ast.DepthFirstTraverser.traverse = _traverse
    _ast.Node.find_clauses = _find_clauses


_ast: Any = None


def _traverse_node_recursively(traverser: Any, node: Any, child_id: int = -1) -> Any:
    if not is_a(type(node), _ast.Node):
        return node
    parent_node = node.parent
    if node.children is not None:
        for i, child_node in enumerate(node.children):
            traverser.pre_processing_of_child(node, i)
            traverser.traverse_node_recursively(child_node, i)
    processor = _processor_for(traverser, type(node))
    if processor is not None:
        node = processor(node)
        node.parent = parent_node
        if parent_node:
            parent_node.children[child_id] = node
    return node


def _traverse(traverser: Any, root: Any) -> Any:
    """`_traverse_node_recursively(traverser, root)`, walked by a closure: no method lookup per node, and the
    child hook called only by the one processor that has one (moto's base hook does nothing)."""
    if type(traverser).traverse_node_recursively is not _traverse_node_recursively:
        return traverser.traverse_node_recursively(root)  # a traverser of its own: its walk
    pre = (
        None
        if type(traverser).pre_processing_of_child is _ast.DepthFirstTraverser.pre_processing_of_child
        else (traverser.pre_processing_of_child)
    )
    node_class = _ast.Node

    def walk(node: Any, child_id: int) -> Any:
        if not is_a(type(node), node_class):
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                if pre is not None:
                    pre(node, i)
                walk(child_node, i)
        processor = _processor_for(traverser, type(node))
        if processor is not None:
            node = processor(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    return walk(root, -1)


def _processor_for(traverser: Any, node_type: type) -> Callable[[Any], Any] | None:
    """The first processor whose class the node is an instance of (moto's `process`), per traverser and type."""
    found: dict[type, Callable[[Any], Any] | None] | None = traverser.__dict__.get("_processors")
    if found is None:
        found = traverser.__dict__["_processors"] = {}
    if node_type not in found:
        matching = (p for kind, p in traverser._processing_map().items() if issubclass(node_type, kind))
        found[node_type] = next(matching, None)
    return found[node_type]


def _find_clauses(node: Any, clause_types: list[type]) -> list[Any]:
    clauses = []
    for child in node.children or []:
        if type(child) in clause_types:
            clauses.append(child)
        elif is_a(type(child), _ast.Expression) or is_a(type(child), _ast.UpdateExpressionFunction):
            clauses.extend(child.find_clauses(clause_types))
    return clauses


_SUBCLASSES: dict[tuple[type, type], bool] = {}


def is_a(value_type: type, kind: type) -> bool:
    """`issubclass(value_type, kind)`, remembered (moto's node classes are ABCs: each test is slow)."""
    answer = _SUBCLASSES.get((value_type, kind))
    if answer is None:
        answer = _SUBCLASSES[(value_type, kind)] = issubclass(value_type, kind)
    return answer


def _handler_methods_listed_once() -> None:
    from moto.core import responses

    listed: dict[type, list[str]] = {}
    method_names_from_class: Callable[[object], list[str]] = responses.method_names_from_class

    @functools.wraps(method_names_from_class)
    def listed_once(clazz: type) -> list[str]:
        names = listed.get(clazz)
        if names is None:
            names = listed[clazz] = method_names_from_class(clazz)
        return names

    responses.method_names_from_class = listed_once  # type: ignore[assignment]


def _old_items_copied_for_streams_only() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import Item

    streamless = threading.local()
    update_item = DynamoDBBackend.update_item
    inner = models.copy.deepcopy  # copy's own, or local.fidelity's (each wraps what it finds)

    @functools.wraps(update_item)
    def update(backend: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        table = backend.tables.get(table_name)  # a missing table: moto's own error, below
        streamless.active = table is not None and table.stream_shard is None
        try:
            return update_item(backend, table_name, *args, **kwargs)
        finally:
            streamless.active = False

    def deepcopy(value: Any, memo: Any = None) -> Any:
        """moto's copy of the item before an update is read by the table's stream only."""
        if type(value) is Item and getattr(streamless, "active", False):
            return value
        return inner(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[assignment]
    DynamoDBBackend.update_item = update  # type: ignore[method-assign,assignment]


_AMZ_JSON = frozenset({"application/x-amz-json-1.0", "application/x-amz-json-1.1"})


def _json_bodies_parsed_as_sent() -> None:
    from moto.core.responses import BaseResponse

    parse_parameters = BaseResponse.parse_parameters

    @functools.wraps(parse_parameters)
    def parse(response: Any, request: Any) -> None:
        parsed = _parsed_json(response, request)
        if parsed is None:
            parse_parameters(response, request)
        else:
            response.params = parsed

    BaseResponse.parse_parameters = parse  # type: ignore[method-assign,assignment]


def _parsed_json(response: Any, request: Any) -> Any:
    """What moto's `parse_parameters` finds in a botocore request of a JSON protocol, read from its body as sent
    (moto's reads the same bytes, as a werkzeug request's `data`, and nothing else); None for any other request."""
    from botocore.awsrequest import AWSPreparedRequest
    from moto.core.parse import JSONParser
    from moto.core.request import determine_request_protocol
    from moto.core.utils import get_service_model

    if type(request) is not AWSPreparedRequest or not isinstance(request.body, bytes | str | None):
        return None
    content_type = request.headers.get("Content-Type")
    if content_type not in _AMZ_JSON or request.headers.get("Content-Encoding"):
        return None
    service = get_service_model(response.boto3_service_name)
    if determine_request_protocol(service, content_type) != "json":
        return None
    operation = service.operation_model(response._get_action())
    body = request.body.encode() if isinstance(request.body, str) else request.body or b""
    wire: Any = {"method": request.method, "values": {}, "headers": {}, "body": body, "url_path": "", "url_params": {}}
    return JSONParser(operation, map_type=response.PROTOCOL_PARSER_MAP_TYPE).parse(wire)


def _clauses_counted_in_one_walk() -> None:
    from moto.dynamodb.exceptions import TooManyClauses
    from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]  # untyped
        UpdateExpressionAddClause,
        UpdateExpressionRemoveClause,
        UpdateExpressionSetClause,
    )
    from moto.dynamodb.parsing.validators import ActionCountValidator

    counted = (UpdateExpressionAddClause, UpdateExpressionRemoveClause, UpdateExpressionSetClause)

    def verify_action_counts(validator: Any, node: Any) -> Any:
        clauses = Counter(type(clause) for clause in node.find_clauses(list(counted)))
        for kind, name in zip(counted, ("ADD", "REMOVE", "SET"), strict=True):
            if clauses[kind] > 1:
                raise TooManyClauses(name)
        return node

    ActionCountValidator.verify_action_counts = verify_action_counts  # type: ignore[assignment]
