"""Stored items as text a test can search: the timeline's packed entries (binary, deflated) read back first."""

from __future__ import annotations

import json
from typing import Any

from chalicelib import aws
from chalicelib.domain.timeline_codec import unpack


def readable(value: Any) -> Any:
    """An item in wire form with every binary value that is a packed timeline entry unpacked (a number or a
    name inside one is then found by a search of the text), other binary values as their hex."""
    if isinstance(value, dict):
        if set(value) == {"B"}:
            data = bytes(value["B"])
            try:
                return unpack(data)
            except Exception:  # not a timeline entry
                return data.hex()
        return {k: readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v) for v in value]
    return value


def item_text(item: Any) -> str:
    return json.dumps(readable(item), sort_keys=True)


def index_entries(table: str, index: str, key_name: str, key: str) -> list[dict[str, Any]]:
    """Every entry of one partition of a table's index, as DynamoDB returns them (wire form): what it holds."""
    pages = (
        aws.dynamodb()
        .get_paginator("query")
        .paginate(
            TableName=table,
            IndexName=index,
            KeyConditionExpression="#k = :k",
            ExpressionAttributeNames={"#k": key_name},
            ExpressionAttributeValues={":k": {"S": key}},
        )
    )
    return [item for page in pages for item in page["Items"]]
