"""Field types every request model shares, so each string has a length and each number a range it can be stored in.

Lengths and ranges are set per field with `Field(max_length=..., ge=..., le=...)`; these types add
what pydantic does not check by itself: names free of control characters, numbers that are not
booleans (JSON `true` is not 1) nor too small for DynamoDB (1e-300 underflows its 38 digits),
and URL schemes compared without regard to case.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # text may hold tabs and line breaks
SMALLEST = 1e-6  # the smallest non-zero magnitude a number field takes (DynamoDB's floor is 1e-130)


def no_controls(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (NUL, tab, line breaks...)")
    return value


def _text(value: str) -> str:
    if _CONTROL_IN_TEXT.search(value):
        raise ValueError("must not contain control characters other than tabs and line breaks")
    return value


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


def _not_tiny(value: float) -> float:
    if value and abs(value) < SMALLEST:
        raise ValueError(f"must be 0 or at least {SMALLEST:g}")
    return value


Name = Annotated[str, AfterValidator(no_controls)]
Text = Annotated[str, AfterValidator(_text)]
PhoneNumber = Annotated[str, Field(max_length=32)]
# For numbers, after the range: `Annotated[int, Field(ge=1, le=9), NOT_BOOL]`. The range must come first (and
# inside Annotated, not on an optional field's Field) for the JSON schema to show it as minimum/maximum.
NOT_BOOL = BeforeValidator(_not_bool)
NOT_TINY = AfterValidator(_not_tiny)


def has_scheme(value: str, *schemes: str) -> bool:
    """`HTTPS://x` has the scheme `https`: schemes are case-insensitive (RFC 3986)."""
    return value.lower().startswith(tuple(f"{scheme}://" for scheme in schemes))


def http_url(value: str | None) -> str | None:
    """An http(s) URL or None; the SSRF rules (https only, public addresses) are checked where it is set."""
    if value is not None and not has_scheme(value, "https", "http"):
        raise ValueError("must be an http(s) URL")
    if value is not None:
        no_controls(value)
    return value


def unique(values: list[Any] | None) -> list[Any] | None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return values
