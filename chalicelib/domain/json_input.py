"""JSON from outside (request bodies, form fields holding JSON, sidecars): bounded before it is trusted.

`json.loads` recurses once per nesting level, so `[` x 100,000 is a RecursionError, and it accepts
lone surrogates (`"\\ud800"`), which no UTF-8 encoder (DynamoDB's, S3's, ours) can write later, and
`NaN`/`Infinity`, which are not JSON. Here the depth is counted before parsing, without recursing,
and every string, key or value, is checked after, so a bad one is named by its path.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A JSON object as sent or received (answers, webhook payloads, request bodies): its shape is the wire's.
JsonObject = dict[str, Any]

MAX_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonInputError(ValueError):
    """Not JSON we take; `field` names where, when one place is to blame."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def depth(text: str) -> int:
    """How deeply arrays and objects nest, counted with strings blanked out (brackets in them do not count)."""
    level = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        level += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, level)
    return deepest


def _no_constants(name: str) -> Any:
    raise JsonInputError(f"{name} is not a JSON value")


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH, field: str | None = None) -> Any:
    """Parse JSON nested at most `max_depth` levels whose every string is valid Unicode.

    Raises JsonInputError (a ValueError); `field` prefixes the paths it names (a form field holding JSON).
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise JsonInputError("the JSON is not UTF-8", field) from None
    if depth(text) > max_depth:
        raise JsonInputError(f"the JSON nests deeper than {max_depth} levels", field)
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except JsonInputError:
        raise
    except RecursionError:  # depth() undercounts only JSON that is invalid anyway
        raise JsonInputError(f"the JSON nests deeper than {max_depth} levels", field) from None
    except ValueError as exc:
        raise JsonInputError(f"not valid JSON: {exc}", field) from None
    check_text(data, field or "")
    return data


def check_text(data: Any, path: str = "") -> None:
    """Refuse any string (or key) holding a lone surrogate, naming it by its path (`contacts.3.name`)."""
    stack: list[tuple[str, Any]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise JsonInputError(f"{where or 'the body'}: text is not valid Unicode (a lone surrogate)", where)
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = f"{where}.{key}" if where else str(key)
                if _SURROGATE.search(key):
                    safe = key.encode("utf-8", "backslashreplace").decode()
                    name = f"{where}.{safe}" if where else safe
                    raise JsonInputError(f"{name}: a name is not valid Unicode (a lone surrogate)", where or None)
                stack.append((inner, item))
        elif isinstance(value, list):
            stack.extend((f"{where}.{index}" if where else str(index), item) for index, item in enumerate(value))
