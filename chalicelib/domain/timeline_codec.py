"""A timeline entry packed into a few bytes, as the execution item stores it (`tl`, a list of binary values).

Why: an entry stored as a map repeats its eight key names and a type byte per value, and a call's dozen
entries pushed its item over 1 KB, so every write of the item cost two or three write units instead of
one. Packed, an entry is a JSON array in a fixed order, the type and component as one letter, and a status
change's summary (`queued -> initiated`) left out when it is the one its statuses give; that text is then
deflated against a fixed dictionary of what entries say (statuses, providers, the dialer's sentences) behind
its time as 6 bytes of epoch milliseconds, ~30 bytes an entry instead of ~90 (issue 17: an answered call's
item under 1 KB until its outcome). Unpacking gives the entry back as it was written. Items written before
read as they are: their `timeline` of maps, and their entries packed as JSON text (strings, not bytes).
"""

from __future__ import annotations

import json
import zlib
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

# The binary form's first byte: its time as 6 bytes then the rest deflated, or (a time clock.iso did not write)
# the whole array deflated. The dictionary can never change under a version: a new one needs a new version byte.
TIMED, UNTIMED = 1, 2
TIME_BYTES = 6
# What entries say, most common last (deflate reaches the dictionary's end most cheaply).
DICTIONARY = "".join(
    (
        '"w","p","a","s","=",null,"stopped","paused","failed","error","busy","no-answer","canceled","balance-low",',
        '"call-disconnected","twilio","http_agent","rate_limited: slow down; again in ","rescheduled","retry after ',
        '{"e":"","s":"","h":"","d":,"v":true,"c":"CA"}',
        '"q","d","place call 2: to +******","r","d","rejected: ",null,null,"simulator"]',
        '"s","p","attempt 2 queued: retry after no-answer","queued"]',
        '"s","d",0,"initiated","queued"]',
        '"q","d","place call 1: to +******0100 from +******0147",null,null,"simulator"]',
        '"r","d","accepted: call id sim-",null,null,"simulator"]',
        '"s","e",0,"ringing","initiated","simulator",{"c":"sim-"}]',
        '"s","e",0,"in-progress","ringing","simulator",{"c":"sim-"}]',
        '"s","e",0,"completed","in-progress","simulator",{"h":"call ended by user","d":30.0,"v":false,"c":"sim-"}]',
        '"s","p","attempt 1 queued","queued"]',
    )
).encode()


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


def pack(entry: Entry) -> bytes:
    """The entry as the item stores it: see the module's docstring."""
    values = _values(entry)
    if isinstance(values[0], int) and 0 <= values[0] < 1 << (8 * TIME_BYTES):
        return bytes([TIMED]) + values[0].to_bytes(TIME_BYTES, "big") + _deflate(_text(values[1:]))
    return bytes([UNTIMED]) + _deflate(_text(values))


def unpack(packed: str | bytes) -> Entry:
    """An entry as pack() stored it, or as the JSON text stored before (a string)."""
    if isinstance(packed, str):
        return _entry(json.loads(packed))
    data = bytes(packed)
    if data[0] == TIMED:
        millis = int.from_bytes(data[1 : 1 + TIME_BYTES], "big")
        return _entry([millis, *json.loads(_inflate(data[1 + TIME_BYTES :]))])
    if data[0] == UNTIMED:
        return _entry(json.loads(_inflate(data[1:])))
    raise ValueError(f"unknown timeline entry form {data[0]}")


def _deflate(text: str) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, DICTIONARY)
    return packer.compress(text.encode()) + packer.flush()


def _inflate(data: bytes) -> str:
    unpacker = zlib.decompressobj(-15, zdict=DICTIONARY)
    return (unpacker.decompress(data) + unpacker.flush()).decode()


def _text(values: list[Any]) -> str:
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def _values(entry: Entry) -> list[Any]:
    """The entry's values in ORDER, coded, trailing absent ones left out."""
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
    return values


def _entry(values: list[Any]) -> Entry:
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
