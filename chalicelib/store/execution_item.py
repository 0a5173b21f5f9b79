"""The execution's stored form: `Execution` fields <-> the item DynamoDB holds (issue 17).

An answered call's final item is written in the outcome's transaction, at 2 write units per started KB: the item
is kept under 1 KB by
- short stored names for the non-key attributes (STORED, the one table of them); the table's key and the
  indexes' keys (KEYS) keep their names, as renaming them would be an index change;
- times packed as binary milliseconds (pack_time) rather than 24-byte ISO strings (keys excepted: `updated_at`
  and `scheduled_at` sort their indexes as strings);
- no copies of what the index keys already hold: `tenant_id` and `agent_id` (in `agent_key`), `created_at` (in
  `agent_sort`), `contact_index`, `attempt` and `retry_count` (in `seq`), dropped only when they derive back
  exactly.

Items written before (long names, ISO strings, every field stored) still read the same: `decode` takes both forms
and prefers the short name when an item holds both. Every write names its fields through here: a SET also
REMOVEs the field's long-named copy (`update_names`), a REMOVE takes both names, and a condition on a field tests
whichever name the item holds (`matches`, `present`, `absent`), so a call in flight across a deploy goes on.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from boto3.dynamodb.types import Binary

from .dynamo import Fields, Wire, from_item

# Bookkeeping fields other stores put on an execution (their names as the record's extra fields).
PROGRESS_MARK = "progress_counted"  # store/executions.py: a live call's progress is counted as `initiated`
LEASE = "lease_until"  # store/leases.py: it holds a live-call slot (until about then, for the operator)
LIVE_SHARD = "live_shard"  # store/leases.py: the agent's counter shard its claim counted in
BATCH_SHARD = "batch_shard"  # store/batches.py: the batch's counter shard its claim counted in
CO_COUNTED = "co_counted"  # store/batches.py: the agent shard + 1 its claim counted the batch's counters in
LOG = "tl"  # the timeline's packed entries (domain/timeline_codec.py); already short

# The table's key and the indexes' keys (resources.EXECUTIONS): stored under their own names.
KEYS = frozenset(
    {
        "execution_id",
        "batch_id",
        "seq",
        "open_shard",
        "updated_at",
        "wake_shard",
        "scheduled_at",
        "number_key",
        "agent_key",
        "agent_sort",
    }
)

# Field -> stored name. Two letters each, unique, none a field's own name; a name not here is stored as it is.
STORED: dict[str, str] = {
    "tenant_id": "tn",
    "agent_id": "ag",
    "status": "st",
    "contact_index": "ci",
    "row": "rw",
    "user_number": "un",
    "from_number": "fn",
    "attempt": "at",
    "retry_count": "rc",
    "recipient_data": "rd",
    "retry_history": "rh",
    "created_at": "ca",
    "provider": "pv",
    "provider_call_id": "pc",
    "claimed_at": "cl",
    "placed_at": "pl",
    "ringing_at": "rg",
    "answered_at": "an",
    "ended_at": "en",
    "conversation_duration": "du",
    "total_cost": "co",
    "transcript": "tx",
    "answered_by_voice_mail": "vm",
    "hangup_reason": "hr",
    "recording_url": "ru",
    "error_message": "er",
    "summary": "sm",
    "extracted_data": "xd",
    "extraction_errors": "xe",
    "cost_breakdown": "cb",
    "transfer_call_data": "tf",
    "hangup_by": "hb",
    "hangup_provider_code": "hc",
    "ring_duration": "ri",
    "post_dial_delay": "pd",
    "telephony_duration": "td",
    "late_details_at": "la",
    "holiday_calendar": "hl",
    "opted_out": "oo",
    "erased_at": "ea",
    "superseded_by": "sb",
    "place_token": "pt",
    "wait_token": "wt",
    "callbacks": "cs",
    PROGRESS_MARK: "pg",
    LEASE: "lu",
    LIVE_SHARD: "ls",
    BATCH_SHARD: "bs",
    CO_COUNTED: "cc",
}
FIELD_OF = {short: field for field, short in STORED.items()}
# Times stored packed (pack_time); the others are index keys, stored as ISO strings.
TIMES = frozenset(
    {
        "created_at",
        "claimed_at",
        "placed_at",
        "ringing_at",
        "answered_at",
        "ended_at",
        "late_details_at",
        "erased_at",
        LEASE,
    }
)
# Personal data an erasure removes (services/erasures.py), under both names.
PERSONAL = ("number_key", "recipient_data", "transcript", "recording_url")

_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z")
EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z: 5 bytes of milliseconds after it last until 2054, then 6
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def stored_name(field: str) -> str:
    return STORED.get(field, field)


def pack_time(text: str) -> bytes | None:
    """An ISO time as clock.iso writes it, as big-endian milliseconds since EPOCH_MS in as few bytes as it takes
    (5 today); None for any other text (stored as it is), or one before the epoch."""
    found = _ISO.fullmatch(text)
    if found is None:
        return None
    year, month, day, hour, minute, second, millis = map(int, found.groups())
    try:
        seconds = calendar.timegm(datetime(year, month, day, hour, minute, second).timetuple())
    except ValueError:
        return None
    offset = seconds * 1000 + millis - EPOCH_MS
    if offset < 0:
        return None
    data = offset.to_bytes(max(1, (offset.bit_length() + 7) // 8), "big")
    return data if unpack_time(data) == text else None


def unpack_time(data: bytes) -> str:
    """pack_time's bytes back to the ISO string (clock.iso's format)."""
    moment = _EPOCH + timedelta(milliseconds=int.from_bytes(data, "big"))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _stored_value(field: str, value: Any) -> Any:
    if field in TIMES and isinstance(value, str):
        packed = pack_time(value)
        if packed is not None:
            return packed
    return value


def _derived(item: Fields) -> Fields:
    """The fields the key attributes of `item` (either form) give back: see the module's docstring."""
    found: Fields = {}
    tenant, sep, agent = str(item.get("agent_key") or "").partition("#")
    if sep and tenant and agent:
        found.update(tenant_id=tenant, agent_id=agent)
    execution_id = str(item.get("execution_id") or "")
    sort = str(item.get("agent_sort") or "")
    if execution_id and sort.endswith("#" + execution_id):
        found["created_at"] = sort.removesuffix("#" + execution_id)
    contact, sep, attempt = str(item.get("seq") or "").partition("#")
    if sep and contact.isdigit() and attempt.isdigit():
        found.update(contact_index=int(contact), attempt=int(attempt), retry_count=int(attempt) - 1)
    return found


def encode(fields: Fields) -> Fields:
    """A whole execution's item (plain values, as Execution.to_item and its index keys give it) in stored form:
    what the keys give back left out, times packed, names shortened."""
    derived = _derived(fields)
    return {
        stored_name(name): _stored_value(name, value)
        for name, value in fields.items()
        if not (name in derived and derived[name] == value and type(derived[name]) is type(value))
    }


def update_names(fields: Fields, removing: Iterable[str] = ()) -> tuple[Fields, list[str]]:
    """An update's SET (`fields`, by field name) in stored form, and the stored names its REMOVE takes: both
    names of each field in `removing`, and the long-named copy (an item written before) of each field set."""
    sets = {stored_name(name): _stored_value(name, value) for name, value in fields.items()}
    removed: list[str] = []
    wanted = [a for name in removing for a in (stored_name(name), name)] + [n for n in fields if n in STORED]
    for attribute in wanted:
        if attribute not in sets and attribute not in removed:
            removed.append(attribute)
    return sets, removed


def removal(attributes: list[str], names: dict[str, str]) -> list[str]:
    """Placeholders (`#r0`, ...) for stored attribute names a REMOVE takes, added to `names` (some long names are
    reserved words)."""
    for i, attribute in enumerate(attributes):
        names[f"#r{i}"] = attribute
    return [f"#r{i}" for i in range(len(attributes))]


def remove_clause(attributes: list[str], names: dict[str, str]) -> str:
    """` REMOVE #r0, ...` for stored attribute names (see removal); empty for none."""
    return " REMOVE " + ", ".join(removal(attributes, names)) if attributes else ""


def _placeholders(field: str, names: dict[str, str]) -> tuple[str, str | None]:
    short = STORED.get(field)
    if short is None:
        names[f"#k_{field}"] = field
        return f"#k_{field}", None
    names[f"#s_{short}"], names[f"#l_{short}"] = short, field
    return f"#s_{short}", f"#l_{short}"


def matches(field: str, test: str, names: dict[str, str]) -> str:
    """A condition `test` ("{} = :v", "{} IN (:a, :b)") on the field's value as stored: under its short name, or
    its long name on an item written before that has only that (placeholders added to `names`)."""
    new, old = _placeholders(field, names)
    if old is None:
        return test.format(new)
    return f"({test.format(new)} OR (attribute_not_exists({new}) AND {test.format(old)}))"


def present(field: str, names: dict[str, str]) -> str:
    """The condition that the item holds the field under either name."""
    new, old = _placeholders(field, names)
    return f"attribute_exists({new})" if old is None else f"(attribute_exists({new}) OR attribute_exists({old}))"


def absent(field: str, names: dict[str, str]) -> str:
    """The condition that the item holds the field under neither name."""
    new, old = _placeholders(field, names)
    if old is None:
        return f"attribute_not_exists({new})"
    return f"(attribute_not_exists({new}) AND attribute_not_exists({old}))"


def decode(item: Fields) -> Fields:
    """A stored item (deserialised: dynamo.from_item) as the record's fields, from either form: long names, ISO
    times, derived fields filled in. A field held under both names reads its short name's value (a set: both's)."""
    fields: Fields = {}
    for name, value in item.items():
        field = FIELD_OF.get(name, name)
        if name == field and name in STORED and STORED[name] in item:  # a long-named copy beside the short one
            other = item[STORED[name]]
            if not (isinstance(value, set) and isinstance(other, set)):
                continue
            value = value | other
        elif name != field and field in item and isinstance(value, set) and isinstance(item[field], set):
            value = value | item[field]
        if field in TIMES and isinstance(value, Binary | bytes | bytearray):
            value = unpack_time(bytes(cast(Any, value)))  # boto3 Binary: bytes() reads it
        fields[field] = value
    for field, value in _derived(item).items():
        fields.setdefault(field, value)
    return fields


def read(item: Wire) -> Fields:
    """An item in DynamoDB's wire form, decoded."""
    return decode(from_item(item))
