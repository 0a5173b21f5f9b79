"""A timeline entry packed into one short string, as the execution item stores it (`tl`, a list of strings).

Why: an entry stored as a map repeats its eight key names and a type byte per value, and a call's dozen
entries pushed its item over 1 KB, so every write of the item cost two or three write units instead of
one. Packed, an entry is a JSON array in a fixed order, the type and component as one letter, and a status
change's summary (`queued -> initiated`) left out when it is the one its statuses give. Unpacking gives the
entry back as it was written; items written before keep their `timeline` of maps, read as they are.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .. import clock
from .timeline import Entry

ISO_LENGTH = len("2026-01-01T00:00:00.000Z")
ORDER = ("created_at", "type", "component", "data", "status", "previous_status", "provider", "details")
TYPES = {"status": "s", "request": "q", "response": "r", "webhook": "w"}
COMPONENTS = {
    "api": "a",
    "dispatcher": "p",
    "dialer": "d",
    "provider_event": "e",
    "sweeper": "s",
    "webhook_sender": "w",
}
DETAILS = {
    "error_message": "e",
    "hangup_reason": "h",
    "conversation_duration": "d",
    "answered_by_voice_mail": "v",
    "scheduled_at": "s",
    "provider_call_id": "c",
}
_UNTYPES = {v: k for k, v in TYPES.items()}
_UNCOMPONENTS = {v: k for k, v in COMPONENTS.items()}
_UNDETAILS = {v: k for k, v in DETAILS.items()}
# A value that is itself one of the codes (not a name we know) is written with this mark before it.
VERBATIM = "="


def _code(value: Any, codes: dict[str, str]) -> Any:
    if not isinstance(value, str):
        return value
    if value in codes:
        return codes[value]
    return VERBATIM + value if value in codes.values() or value.startswith(VERBATIM) else value


def _uncode(value: Any, names: dict[str, str]) -> Any:
    if not isinstance(value, str):
        return value
    if value.startswith(VERBATIM):
        return value[len(VERBATIM) :]
    return names.get(value, value)


def _derived_data(entry: Entry) -> str | None:
    """The summary a status change gets from its statuses (status_change's), left out when stored."""
    if entry.get("type") == "status" and entry.get("previous_status") and entry.get("status"):
        return f"{entry.get('previous_status')} -> {entry.get('status')}"
    return None


def _moment(at: Any) -> Any:
    """clock.iso's text as epoch milliseconds (13 digits, not 24 characters) when that gives it back exactly."""
    if not isinstance(at, str) or len(at) != ISO_LENGTH or not at.endswith("Z"):
        return at
    try:
        millis = round(clock.parse_iso(at).timestamp() * 1000)
    except ValueError:
        return at
    return millis if _iso(millis) == at else at


def _iso(millis: int) -> str:
    return clock.iso(datetime.fromtimestamp(millis / 1000, UTC))


def pack(entry: Entry) -> str:
    values: list[Any] = [entry.get(name) for name in ORDER]
    values[0] = _moment(values[0])
    values[1] = _code(values[1], TYPES)
    values[2] = _code(values[2], COMPONENTS)
    derived = _derived_data(entry)
    if derived is not None and entry.get("data") == derived:
        values[3] = 0  # derived on unpacking
    if isinstance(values[7], dict):
        values[7] = {_code(k, DETAILS): v for k, v in values[7].items()}
    while values and values[-1] is None:
        values.pop()
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def unpack(packed: str) -> Entry:
    values: list[Any] = json.loads(packed)
    found: dict[str, Any] = {}
    for name, value in zip(ORDER, values, strict=False):
        if value is not None:
            found[name] = value
    if isinstance(found.get("created_at"), int):
        found["created_at"] = _iso(found["created_at"])
    if isinstance(found.get("details"), dict):
        found["details"] = {_uncode(k, _UNDETAILS): v for k, v in found["details"].items()}
    found["type"] = _uncode(found.get("type"), _UNTYPES)
    found["component"] = _uncode(found.get("component"), _UNCOMPONENTS)
    entry: Entry = found  # type: ignore[assignment]
    if found.get("data") == 0:
        entry["data"] = _derived_data(entry) or ""
    return entry
