"""Shared DynamoDB plumbing: typed (de)serialisation, condition failures (cursors: cursors.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from .. import aws
from ..errors import AlreadyExists, Throttled

# What the untyped maps at the DynamoDB boundary hold (records themselves are typed: domain/records.py).
Wire = dict[str, Any]  # attribute name -> value in DynamoDB's wire form ({"S": ...}): an item, a key, values
Fields = dict[str, Any]  # attribute name -> plain value: an item read back, or the attributes an update sets
Request = dict[str, Any]  # a request's parameters, or one element of a transaction

_ser = TypeSerializer()
_de = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def av(value: Any) -> Wire:
    """One attribute value in DynamoDB's wire form."""
    return dict(_ser.serialize(_to_dynamo(value)))


MAX_KEY_BYTES = 2048  # DynamoDB's limit for a partition key


def storable_key(value: str) -> bool:
    """Whether DynamoDB takes `value` as a key: it refuses an empty one, or one over 2 KiB, with an error
    (a 500), so an id from a URL that is neither names nothing and is simply not found."""
    return 0 < len(value.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES


def to_item(data: Fields) -> Wire:
    return {k: av(v) for k, v in data.items() if v is not None}


def from_item(item: Wire) -> Fields:
    return {k: _from_dynamo(_de.deserialize(v)) for k, v in item.items()}


def values(**kwargs: Any) -> Wire:
    """ExpressionAttributeValues from keyword arguments: values(a=1) -> {':a': {'N': '1'}}."""
    return {f":{k}": av(v) for k, v in kwargs.items()}


def set_clause(fields: Fields) -> tuple[str, dict[str, str], Wire]:
    """`SET #f0 = :v0, ...` with its names and values, so no attribute name can clash with a reserved word."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    vals = {f":v{i}": av(value) for i, value in enumerate(fields.values())}
    return "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))), names, vals


def update_if(
    table: str,
    key: Wire,
    fields: Fields,
    condition: str | None = None,
    names: dict[str, str] | None = None,
    condition_values: Wire | None = None,
    remove: tuple[str, ...] = (),
    appends: dict[str, list[Any]] | None = None,
) -> bool:
    """Set fields (and remove some, and append to lists), under an optional condition; False when the
    condition did not hold."""
    update, all_names, vals = set_clause(fields)
    appended = []
    for i, (name, items) in enumerate((appends or {}).items()):
        appended.append(f"#l{i} = list_append(if_not_exists(#l{i}, :empty), :l{i})")
        all_names[f"#l{i}"] = name
        vals[f":l{i}"] = av(items)
        vals[":empty"] = av([])
    if appended:
        update += (", " if fields else "") + ", ".join(appended)
    if remove:
        update += " REMOVE " + ", ".join(remove)
    all_names.update(names or {})
    vals.update(condition_values or {})
    kwargs: Request = {"ConditionExpression": condition} if condition else {}
    try:
        aws.dynamodb().update_item(
            TableName=table,
            Key=key,
            UpdateExpression=update,
            ExpressionAttributeNames=all_names,
            ExpressionAttributeValues=vals,
            **kwargs,
        )
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


INDEX_SHARDS = 8  # partition key values of an index every call writes (by_open, by_expiry): 8 x ~1,000 WRU/s


def index_shard(item_id: str) -> str:
    """The shard ("1".."8") of a sparse index's partition key for this item: fixed per item, so an update keeps
    it in place; "1" is also where items written before sharding sit, so readers of every shard find them."""
    return str(1 + int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) % INDEX_SHARDS)


class ShardsUnread(Exception):
    """Some shards of a sharded index could not be read (throttled, a 5xx): the listing was partial."""

    def __init__(self, index: str, shards: list[str]) -> None:
        super().__init__(f"index {index}: shard(s) {', '.join(shards)} could not be read; the others were listed")
        self.shards = shards


def query_shards(key_name: str, condition: str, **request: Any) -> Iterator[Fields]:
    """query_all over every shard of a sharded index (`condition` without the shard's own `key = :shard`).

    Each shard on its own, as the sweeper takes each listing: a shard whose query fails is left for the next
    read and the later shards are still listed; then ShardsUnread (chained to the first failure) says the
    listing was partial, for the caller to log and count."""
    failed: list[str] = []
    first: Exception | None = None
    for shard in map(str, range(1, INDEX_SHARDS + 1)):
        vals = {**request.get("ExpressionAttributeValues", {}), ":shard": {"S": shard}}
        try:
            yield from query_all(
                **{**request, "ExpressionAttributeValues": vals},
                KeyConditionExpression=" AND ".join([f"{key_name} = :shard", *([condition] if condition else [])]),
            )
        except Exception as exc:  # any failure of this shard's read (a bug too) must not hide the other shards
            failed.append(shard)
            first = first or exc
    if failed:
        raise ShardsUnread(str(request.get("IndexName")), failed) from first


def query_all(**request: Any) -> Iterator[Fields]:
    """Every item a Query matches, page after page, deserialised."""
    for page in aws.dynamodb().get_paginator("query").paginate(**request):
        for item in page.get("Items", []):
            yield from_item(item)


def condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def throttled(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in aws.THROTTLE_CODES


def put_new(table: str, item: Fields, key_attribute: str, what: str) -> None:
    """Put an item that must not exist yet: AlreadyExists when it does, Throttled when AWS refused the rate.

    Any other failure is raised as it came, so it is never mistaken for a duplicate.
    """
    try:
        aws.dynamodb().put_item(
            TableName=table, Item=to_item(item), ConditionExpression=f"attribute_not_exists({key_attribute})"
        )
    except ClientError as exc:
        if condition_failed(exc):
            raise AlreadyExists(f"{what} already exists") from None
        if throttled(exc):
            raise Throttled(f"DynamoDB throttled a write to {what}") from exc
        raise


def cancellation_codes(exc: ClientError) -> list[str]:
    """Per-item reasons of a cancelled transaction ("None" where the item was fine)."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        raise exc
    reasons = exc.response.get("CancellationReasons") or []
    return [str(r.get("Code", "None")) for r in reasons]


BATCH_GET_KEYS = 100  # DynamoDB's limit per BatchGetItem


def get_many(table: str, key_names: tuple[str, ...], entries: list[Wire]) -> list[Fields]:
    """The items behind a KEYS_ONLY index's entries (each holds the table's key `key_names`), in the entries'
    order; an item gone meanwhile is left out."""
    keys = [{name: entry[name] for name in key_names} for entry in entries]
    found: dict[str, Wire] = {}
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request: Request | None = {table: {"Keys": keys[start : start + BATCH_GET_KEYS]}}
        while request:
            answer = aws.dynamodb().batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(table, []):
                found[_key_id(item, key_names)] = item
            request = answer.get("UnprocessedKeys") or None
    ids = (_key_id(key, key_names) for key in keys)
    return [from_item(found[i]) for i in ids if i in found]


def _key_id(item: Wire, key_names: tuple[str, ...]) -> str:
    return "\x00".join(repr(item[name]) for name in key_names)


@dataclass(frozen=True)
class KeysPage:
    """One Query page of a KEYS_ONLY index, with the items behind its entries."""

    items: list[Fields]  # in the index's order; an item gone since its entry was read is left out
    last_key: Wire | None  # LastEvaluatedKey: where the next page starts (None: the last page)
    scanned: int  # index entries examined (ScannedCount), for readers that bound their work


def query_keys_page(key_names: tuple[str, ...] | None, **request: Any) -> KeysPage:
    """One Query of a KEYS_ONLY index (`request` as for Query: its Limit and ExclusiveStartKey page it), then
    the items behind its entries by key (`key_names`: the table's key), BatchGetItem 100 at a time.
    `key_names` None: the index projects ALL, its entries are the items (a reader of either kind)."""
    page = aws.dynamodb().query(**request)
    entries = page.get("Items", [])
    if key_names is None:
        items = [from_item(entry) for entry in entries]
    else:
        items = get_many(request["TableName"], key_names, entries) if entries else []
    return KeysPage(items, page.get("LastEvaluatedKey"), int(page.get("ScannedCount", 0)))


def query_keys_all(key_names: tuple[str, ...], **request: Any) -> Iterator[Fields]:
    """Every item behind a KEYS_ONLY index's matches, in the index's order, read a page of 100 entries (one
    BatchGetItem) at a time, so a long listing never sits in memory whole."""
    start: Wire | None = None
    while True:
        page = query_keys_page(
            key_names, **request, Limit=BATCH_GET_KEYS, **({"ExclusiveStartKey": start} if start else {})
        )
        yield from page.items
        start = page.last_key
        if not start:
            return
