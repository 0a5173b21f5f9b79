"""An item's size as DynamoDB bills it (the emulator's own count differs: it counts a number's text and a binary's
base64), from the item in wire form as GetItem returns it."""

from __future__ import annotations

import math
from typing import Any


def number_size(text: str) -> int:
    """1 byte, plus 1 per two significant digits (leading and trailing zeros trimmed), plus 1 when negative."""
    digits = text.lstrip("-").lower().split("e")[0].replace(".", "").strip("0")
    return 1 + math.ceil(len(digits) / 2) + (1 if text.startswith("-") else 0)


def value_size(value: dict[str, Any]) -> int:
    """One attribute value's bytes: strings and binaries their length, a list or map 3 bytes and 1 per element
    besides its elements (a map's names too), a set its elements."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "B":
        return len(bytes(inner))
    if kind == "N":
        return number_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(bytes(b)) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, dict[str, Any]]) -> int:
    """The item's bytes: each attribute's name (UTF-8) and value."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())
