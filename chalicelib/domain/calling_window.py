"""When a campaign may ring a recipient: the agent's calling hours, read on the recipient's own clock.

The rule is decided on the local *wall clock* of every candidate zone of the number:

* ``start_hour <= local hour < end_hour`` (or, when the window crosses midnight, ``hour >= start`` or
  ``hour < end``), and the weekday that counts is the one the window *opened* on, so Friday 20:00 ->
  Saturday 02:00 is Friday's window.
* Because only the wall clock matters, DST needs no special case: a spring-forward gap simply shortens
  that night's window (a 01-03 window is one real hour long), a fall-back repeat lengthens it (three
  real hours), and a window opening inside a gap opens at the first instant after it (03:00 EDT).
* A number whose zone phonenumbers cannot pin down yields several zones; a time is allowed only when it
  is inside the window in *all* of them, so nobody is called at night on a guess.

Fallback (see ``recipient_zones``): the agent's ``default_timezone`` is used only when the number gives
no usable zone at all (unparseable, ``Etc/Unknown``, or zones unknown to this host's tz database); a
known-but-ambiguous number always keeps its own zones, and if their intersection never opens within
``HORIZON`` then ``next_open`` answers None rather than silently calling on the default zone's clock.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

from .records import Agent

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS: frozenset[str] = frozenset(DAY_NAMES)
HORIZON = timedelta(days=8)
"""How far ahead ``next_open`` looks; a week plus a day covers any weekday filter and any DST shift."""

UNKNOWN_ZONE = "Etc/Unknown"

# phonenumbers still emits some pre-rename tz names; these map them to the current ones so callers see
# e.g. Asia/Kolkata (and a tz database built without the "backward" links still resolves them).
_RENAMED: dict[str, str] = {
    "Africa/Asmera": "Africa/Asmara",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Godthab": "America/Nuuk",
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Pacific/Enderbury": "Pacific/Kanton",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Truk": "Pacific/Chuuk",
}


@dataclass(frozen=True)
class CallingWindow:
    """Whole-hour calling hours: ``start_hour`` inclusive, ``end_hour`` exclusive; start > end crosses midnight."""

    start_hour: int
    end_hour: int
    days: frozenset[str]  # subset of {"mon","tue","wed","thu","fri","sat","sun"}; must be non-empty

    def __post_init__(self) -> None:
        for name, highest in (("start_hour", 23), ("end_hour", 24)):  # end 24: until midnight, so 0-24 is all day
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
                raise ValueError(f"{name} must be an int 0-{highest}, got {value!r}")
        if self.start_hour == self.end_hour:
            raise ValueError("start_hour and end_hour must differ (a window may cross midnight)")
        if isinstance(self.days, str):  # "mon" would otherwise become {"m", "o", "n"}
            raise ValueError("days must be a collection of day names, not a string")
        days = frozenset(self.days)
        if not days:
            raise ValueError("days must name at least one weekday")
        unknown = days - ALL_DAYS
        if unknown:
            raise ValueError(f"unknown day names {sorted(unknown)}; use {list(DAY_NAMES)}")
        object.__setattr__(self, "days", days)  # accept any iterable but keep the dataclass hashable

    @classmethod
    def from_agent(cls, agent: Agent) -> CallingWindow:
        """Build from a stored agent; missing fields take the agent defaults (9, 21, every day)."""
        days = agent.call_days
        return cls(
            start_hour=_hour(agent.call_start_hour, 9, "call_start_hour"),
            end_hour=_hour(agent.call_end_hour, 21, "call_end_hour"),
            days=ALL_DAYS if days is None else _day_names(days),
        )


def _hour(value: Any, default: int, name: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float) or value != int(value):
        raise ValueError(f"{name} must be a whole hour 0-23, got {value!r}")
    return int(value)


def _day_names(days: Any) -> frozenset[str]:
    if isinstance(days, str) or not isinstance(days, Iterable):
        raise ValueError(f"call_days must be a list of day names, got {days!r}")
    return frozenset(str(day).strip().lower() for day in days)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    """ZoneInfo's own strong cache holds only 8 zones; multi-zone numbers (US toll-free: 42) need more."""
    return ZoneInfo(name)


def _loadable(name: str) -> bool:
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def recipient_zones(e164: str, default_timezone: str | None = None) -> list[str]:
    """Candidate IANA zones for ``e164`` (deduplicated, sorted, renamed tz names updated).

    Falls back to ``[default_timezone]`` (or ``["UTC"]`` without one) only when the number yields no
    usable zone: it does not parse, phonenumbers answers ``Etc/Unknown`` (invalid numbers, satellite and
    other non-geographic codes), or none of its zones exist in this host's tz database. A number with
    known zones is never overridden by the default, even when they are many and far apart.
    Raises ValueError for a ``default_timezone`` that is not an IANA zone: that is a configuration bug.
    """
    fallback = default_timezone or "UTC"
    if not _loadable(fallback):
        raise ValueError(f"default_timezone {default_timezone!r} is not an IANA time zone")
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return [fallback]
    zones = set()
    for name in phone_timezone.time_zones_for_number(parsed):
        if name == UNKNOWN_ZONE:
            continue
        current = _RENAMED.get(name, name)
        if _loadable(current):
            zones.add(current)
        elif _loadable(name):
            zones.add(name)
    return sorted(zones) or [fallback]


# --- the decision --------------------------------------------------------------------------------------


def _open_local(window: CallingWindow, local: datetime) -> bool:
    """Wall-clock test; whole-hour bounds make the hour alone decide, minutes never matter."""
    hour = local.hour
    start, end = window.start_hour, window.end_hour
    if start < end:
        return start <= hour < end and DAY_NAMES[local.weekday()] in window.days
    if hour >= start:
        return DAY_NAMES[local.weekday()] in window.days
    if hour < end:  # the small hours belong to the window that opened the evening before
        return DAY_NAMES[local.weekday() - 1] in window.days
    return False


def _open_at(window: CallingWindow, zone: tzinfo, ts: int) -> bool:
    return _open_local(window, datetime.fromtimestamp(ts, zone))


def _names(zones: Sequence[str]) -> list[str]:
    if isinstance(zones, str):
        raise ValueError("zones must be a list of zone names, not a string")
    if not zones:
        raise ValueError("zones must not be empty; use recipient_zones() to get at least one")
    return list(dict.fromkeys(zones))


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment!r}")


def is_open(window: CallingWindow, zones: Sequence[str], at: datetime) -> bool:
    """True when ``at`` (aware) falls inside the window on the wall clock of every zone."""
    _aware(at, "at")
    return all(_open_local(window, at.astimezone(_zone(name))) for name in _names(zones))


# --- searching for the next opening ---------------------------------------------------------------------


@lru_cache(maxsize=16384)
def _boundary(zone_name: str, day: int, hour: int) -> tuple[int, ...]:
    """UTC seconds at which wall time ``hour``:00 on ``day`` (an ordinal) starts, per zone.

    One instant normally. In a DST gap or a repeated hour it returns both fold readings plus the
    transition instant between them, because that is where the clock jumps over (or back across) the
    boundary. Cached: a warm Lambda asks about the same few zones and days over and over.
    """
    zone = _zone(zone_name)
    wall = datetime.fromordinal(day).replace(hour=hour, tzinfo=zone)
    first = int(wall.timestamp())
    second = int(wall.replace(fold=1).timestamp())
    if first == second:
        return (first,)
    lo, hi = min(first, second), max(first, second)
    before = datetime.fromtimestamp(lo, zone).utcoffset()
    if datetime.fromtimestamp(hi, zone).utcoffset() == before:
        return (lo, hi)
    while hi - lo > 1:  # bisect to the second the offset changes: tz transitions are whole seconds
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return tuple(sorted({first, second, hi}))


@lru_cache(maxsize=4096)
def _candidates(window: CallingWindow, zone_name: str, first_day: date, last_day: date) -> tuple[int, ...]:
    """Every instant at which the zone's status can turn to open, in order.

    The status is a function of the wall clock, so it can only become open where the clock reaches
    ``start_hour`` on an allowed day, or where a tz transition makes it jump over a boundary (both
    covered by ``_boundary``; ``end_hour`` contributes only its transition instants, since a clock
    falling back across it reopens the window). Cached per day range, so warm calls skip the work.
    """
    found: list[int] = []
    day = first_day.toordinal()
    weekday = first_day.weekday()
    for ordinal in range(day, last_day.toordinal() + 1):
        if DAY_NAMES[(weekday + ordinal - day) % 7] in window.days:
            found.extend(_boundary(zone_name, ordinal, window.start_hour))
        end = (
            _boundary(zone_name, ordinal + 1, 0)
            if window.end_hour == 24
            else _boundary(zone_name, ordinal, window.end_hour)
        )
        if len(end) > 1:
            found.extend(end)
    return tuple(sorted(found))


def next_open(window: CallingWindow, zones: Sequence[str], after: datetime) -> datetime | None:
    """Earliest aware UTC instant >= ``after`` at which ``is_open`` holds, or None within ``HORIZON``.

    Returns ``after`` itself when already open. Otherwise the answer is an opening of some zone at which
    all zones are open, so it leapfrogs: each zone proposes its own next opening at or after the current
    guess, the guess moves to the latest proposal, until every zone agrees. Each zone only scans its
    own boundary list forward, so the cost is linear in the number of boundaries, not in seconds.
    """
    _aware(after, "after")
    names = _names(zones)
    loaded = [_zone(name) for name in names]
    if all(_open_local(window, after.astimezone(zone)) for zone in loaded):
        return after
    limit = int((after + HORIZON).timestamp())  # whole second: every candidate is one
    lists: list[tuple[int, ...]] = []
    for name, zone in zip(names, loaded, strict=True):
        first_day = after.astimezone(zone).date() - timedelta(days=1)
        last_day = (after + HORIZON).astimezone(zone).date() + timedelta(days=1)
        lists.append(_candidates(window, name, first_day, last_day))
    # Closed at `after`, so the answer is a boundary strictly later: a whole second >= floor + 1. Every
    # zone's proposal is <= the true answer while the guess is, so the guess never overshoots it.
    guess = int(after.timestamp()) + 1
    cursors = [bisect_left(found, guess) for found in lists]
    moved = True
    while moved:
        moved = False
        for index, zone in enumerate(loaded):
            if _open_at(window, zone, guess):
                continue
            found, cursor = lists[index], cursors[index]
            while cursor < len(found) and (found[cursor] < guess or not _open_at(window, zone, found[cursor])):
                cursor += 1
            cursors[index] = cursor
            if cursor == len(found) or found[cursor] > limit:
                return None
            guess, moved = found[cursor], True
    return datetime.fromtimestamp(guess, UTC)
