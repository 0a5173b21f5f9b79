"""When a campaign may ring a recipient: the calling rules, read on the recipient's own clock.

The rules (one ``CallingWindow``) are weekly calling hours, blocked date ranges and, on opt-in, the
public holidays of the recipient's country. They are decided on the local *wall clock* of every
candidate zone of the number:

* Weekly hours: per weekday, zero or more intervals ``[start, end)`` with minute precision. An interval
  whose end is not after its start crosses midnight and belongs to the day it *opened* on, so Friday
  22:00 -> 02:00 runs into Saturday's small hours as Friday's interval. Bolna's ``call_start_hour`` /
  ``call_end_hour`` / ``call_days`` are the shorthand for one whole-hour interval on some days.
* Blocked dates and holidays close a whole local *date*: nothing is called on a blocked or holiday
  date, whichever day's interval the moment belongs to.
* Because only the wall clock matters, DST needs no special case: a spring-forward gap simply shortens
  that night's interval, a fall-back repeat lengthens it, and an interval opening inside a gap opens at
  the first instant after it (03:00 EDT).
* A number whose zone phonenumbers cannot pin down yields several zones; a time is allowed only when it
  is open in *all* of them, so nobody is called at night on a guess.

Fallback (see ``recipient_zones``): the agent's ``default_timezone`` is used only when the number gives
no usable zone at all (unparseable, ``Etc/Unknown``, or zones unknown to this host's tz database); a
known-but-ambiguous number always keeps its own zones, and if their intersection never opens within
``HORIZON`` (plus the closed dates met on the way) then ``next_open`` answers None rather than silently
calling on the default zone's clock.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers
from phonenumbers import timezone as phone_timezone

from .fast_zones import fast_region, fast_time_zones

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS: frozenset[str] = frozenset(DAY_NAMES)
HORIZON = timedelta(days=8)
"""How far ahead ``next_open`` looks, plus one day per closed (blocked or holiday) date met on the way:
a week plus a day covers any weekday filter and any DST shift."""
MINUTES_PER_DAY = 1440
MAX_INTERVALS_PER_DAY = 8
MAX_BLOCKED_RANGES = 100
MAX_BLOCKED_DAYS = 366  # per range; also bounds how far next_open may have to look
MAX_SEARCH_DAYS = 3 * 366

UNKNOWN_ZONE = "Etc/Unknown"

Interval = tuple[int, int]
"""Minutes since the day's local midnight: ``start`` in 0-1439, ``end`` in start+1 .. start+1440 (past
1440: crosses midnight into the next day)."""
WeeklyHours = tuple[tuple[Interval, ...], ...]
"""Seven tuples of intervals, Monday first."""
DateRange = tuple[date, date]
"""Inclusive first and last local date."""

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
    """The calling rules of one agent or batch (hashable, so searches are cached per rules and zone).

    ``start_hour``/``end_hour``/``days`` are the whole-hour shorthand (start > end crosses midnight);
    ``weekly``, when given, replaces them. ``blocked`` are local date ranges; ``public_holidays`` opts in
    to the recipient's holidays, which apply once ``holiday_calendar`` names them (``for_number``).
    """

    start_hour: int = 9
    end_hour: int = 21
    days: frozenset[str] = ALL_DAYS  # subset of {"mon","tue","wed","thu","fri","sat","sun"}; must be non-empty
    weekly: WeeklyHours | None = None
    blocked: tuple[DateRange, ...] = ()
    public_holidays: bool = False
    holiday_calendar: str | None = None  # "US" or "US-CA": the holidays package's country and subdivision
    intervals: WeeklyHours = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.weekly is None:
            object.__setattr__(self, "days", self._shorthand_days())
            intervals = _from_shorthand(self.start_hour, self.end_hour, self.days)
        else:
            intervals = _checked_weekly(self.weekly)
        object.__setattr__(self, "weekly", None if self.weekly is None else intervals)
        object.__setattr__(self, "intervals", intervals)
        object.__setattr__(self, "blocked", _checked_blocked(self.blocked))
        if self.holiday_calendar is not None:
            _calendar(self.holiday_calendar)  # fails loudly for a calendar the package lacks

    def _shorthand_days(self) -> frozenset[str]:
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
        return days  # accept any iterable but keep the dataclass hashable

    @classmethod
    def from_agent(cls, agent: Any, batch: Any = None) -> CallingWindow:
        """The rules of a stored agent (a mapping or a record), each overridden by the batch's when it set one.

        Missing or None keys take the agent defaults (9-21, every day, nothing blocked, no holidays).
        ``calling_hours`` wins over the shorthand. Accepts DynamoDB's Decimal numbers and string sets.
        """
        hours = _get(batch, "calling_hours") or _get(agent, "calling_hours")
        blocked = _get(batch, "blocked_dates")
        holidays_on = _get(batch, "skip_public_holidays")
        rules: dict[str, Any] = {
            "blocked": parse_blocked(_get(agent, "blocked_dates") if blocked is None else blocked),
            "public_holidays": bool(_get(agent, "skip_public_holidays") if holidays_on is None else holidays_on),
        }
        if hours:
            return cls(weekly=parse_weekly(hours), **rules)
        days = _get(agent, "call_days")
        return cls(
            start_hour=_hour(_get(agent, "call_start_hour"), 9, "call_start_hour"),
            end_hour=_hour(_get(agent, "call_end_hour"), 21, "call_end_hour"),
            days=ALL_DAYS if days is None else _day_names(days),
            **rules,
        )

    def for_number(self, e164: str) -> CallingWindow:
        """These rules for one recipient: with opted-in holidays, the calendar of the number's country."""
        if not self.public_holidays:
            return self
        calendar = holiday_calendar_for(e164)
        return self if calendar == self.holiday_calendar else _with_calendar(self, calendar)

    def closed_on(self, day: date) -> bool:
        """A local date on which nobody is called: blocked, or a public holiday of the calendar."""
        if any(first <= day <= last for first, last in self.blocked):
            return True
        return self.holiday_calendar is not None and day in _holiday_dates(self.holiday_calendar, day.year)


@lru_cache(maxsize=4096)
def _with_calendar(window: CallingWindow, calendar: str | None) -> CallingWindow:
    """One copy per rules and calendar: a plan asks for every contact, and checking the rules again costs."""
    return replace(window, holiday_calendar=calendar)


def _get(record: Any, name: str) -> Any:
    if record is None:
        return None
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


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


def _from_shorthand(start_hour: int, end_hour: int, days: frozenset[str]) -> WeeklyHours:
    start, end = start_hour * 60, end_hour * 60
    if end <= start:
        end += MINUTES_PER_DAY
    return tuple(((start, end),) if name in days else () for name in DAY_NAMES)


def _checked_weekly(weekly: WeeklyHours) -> WeeklyHours:
    if len(weekly) != len(DAY_NAMES):
        raise ValueError("weekly hours need seven days of intervals, Monday first")
    out = []
    for intervals in weekly:
        if len(intervals) > MAX_INTERVALS_PER_DAY:
            raise ValueError(f"at most {MAX_INTERVALS_PER_DAY} intervals per day")
        for start, end in intervals:
            if not 0 <= start < MINUTES_PER_DAY or not start < end <= start + MINUTES_PER_DAY:
                raise ValueError(f"bad interval {(start, end)}: minutes since midnight, end after start")
        out.append(tuple(sorted((int(start), int(end)) for start, end in intervals)))
    if not any(out):
        raise ValueError("calling_hours must open on at least one day (an empty week would never call)")
    return tuple(out)


def _checked_blocked(blocked: Iterable[DateRange]) -> tuple[DateRange, ...]:
    ranges = tuple(sorted((first, last) for first, last in blocked))
    if len(ranges) > MAX_BLOCKED_RANGES:
        raise ValueError(f"at most {MAX_BLOCKED_RANGES} blocked date ranges")
    for first, last in ranges:
        if last < first:
            raise ValueError(f"blocked range {first} - {last} ends before it starts")
        if (last - first).days >= MAX_BLOCKED_DAYS:
            raise ValueError(f"a blocked range spans at most {MAX_BLOCKED_DAYS} days")
    return ranges


# --- the wire shapes -----------------------------------------------------------------------------------

_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def clock_minutes(text: str, *, end: bool = False) -> int:
    """``"HH:MM"`` (24-hour) as minutes since midnight; ``"24:00"`` only as an interval's end."""
    match = _CLOCK.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a time HH:MM (24-hour, e.g. 09:30)")
    minutes = int(match[1]) * 60 + int(match[2])
    if minutes > MINUTES_PER_DAY or (minutes == MINUTES_PER_DAY and not end):
        raise ValueError(f"{text!r}: 24:00 is allowed only as an interval's end")
    return minutes


def parse_weekly(spec: Mapping[str, Any]) -> WeeklyHours:
    """``{"mon": [["09:00", "12:00"], ["13:00", "20:00"]], "sat": [["22:00", "02:00"]]}`` as intervals.

    A day left out (or with ``[]``) has no calling hours; an end at or before the start crosses midnight
    (``["22:00", "02:00"]``); ``["00:00", "24:00"]`` is the whole day; a start equal to its end is refused.
    """
    if not isinstance(spec, Mapping):
        raise ValueError("calling_hours must be an object of weekday -> list of [start, end] pairs")
    unknown = set(spec) - ALL_DAYS
    if unknown:
        raise ValueError(f"unknown day names {sorted(unknown)}; use {list(DAY_NAMES)}")
    week: list[tuple[Interval, ...]] = []
    for name in DAY_NAMES:
        intervals = []
        for pair in spec.get(name) or ():
            if isinstance(pair, str) or len(pair) != 2:
                raise ValueError(f"{name}: each interval is a pair [start, end], got {pair!r}")
            start, end = clock_minutes(pair[0]), clock_minutes(pair[1], end=True)
            if start == end % MINUTES_PER_DAY and end != MINUTES_PER_DAY:
                raise ValueError(f"{name}: interval {list(pair)} is empty (use 00:00-24:00 for the whole day)")
            intervals.append((start, end if end > start else end + MINUTES_PER_DAY))
        week.append(tuple(intervals))
    return _checked_weekly(tuple(week))


def parse_blocked(ranges: Any) -> tuple[DateRange, ...]:
    """``[{"start": "2026-12-24", "end": "2026-12-26"}, ...]`` (inclusive local dates) as date pairs."""
    if not ranges:
        return ()
    out = []
    for item in ranges:
        first, last = _get(item, "start"), _get(item, "end")
        out.append((_as_date(first), _as_date(last if last is not None else first)))
    return _checked_blocked(out)


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date YYYY-MM-DD") from None


# --- the recipient -------------------------------------------------------------------------------------


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
    Raises ValueError for a ``default_timezone`` that is not an IANA time zone: that is a configuration bug.
    """
    fallback = default_timezone or "UTC"
    if not _loadable(fallback):
        raise ValueError(f"default_timezone {default_timezone!r} is not an IANA time zone")
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return [fallback]
    return list(_usable(tuple(phone_timezone.time_zones_for_number(parsed)), fallback))


def contact_zones(e164: str) -> str:
    """A valid contact's zones as phonenumbers gives them, comma-joined: what the ingest stores with each
    contact (`z`), so a plan need not look 100,000 numbers up again. "" when the number does not parse."""
    raw = fast_time_zones(e164)
    if raw is None:
        try:
            raw = tuple(phone_timezone.time_zones_for_number(phonenumbers.parse(e164, None)))
        except phonenumbers.NumberParseException:
            return ""
    return ",".join(raw)


def stored_recipient_zones(stored: str, default_timezone: str | None = None) -> tuple[str, ...]:
    """``recipient_zones`` from a contact's stored zones (``contact_zones``): the same answer, no lookup."""
    fallback = default_timezone or "UTC"
    if not _loadable(fallback):
        raise ValueError(f"default_timezone {default_timezone!r} is not an IANA time zone")
    return _usable(tuple(stored.split(",")) if stored else (), fallback)


@lru_cache(maxsize=4096)
def _usable(raw: tuple[str, ...], fallback: str) -> tuple[str, ...]:
    """phonenumbers' zones without Etc/Unknown and ones this host's tz database lacks (renamed ones updated)."""
    zones = set()
    for name in raw:
        if name == UNKNOWN_ZONE:
            continue
        current = _RENAMED.get(name, name)
        if _loadable(current):
            zones.add(current)
        elif _loadable(name):
            zones.add(name)
    return tuple(sorted(zones)) or (fallback,)


@lru_cache(maxsize=8192)
def holiday_calendar_for(e164: str) -> str | None:
    """The public-holiday calendar of the number's country (``"US"``), or None when there is none.

    The country is phonenumbers' region of the number; None for an unparseable or non-geographic number
    (``+800``, satellites) and for a country the holidays package does not cover. Subdivisions are not
    derived: a number does not reliably say its state or province (mobile numbers move, and the area
    code -> region data lives in phonenumbers' geocoder, too heavy for a Lambda), so a country's
    national holidays apply everywhere in it.
    """
    region = _single_region(e164) or fast_region(e164)
    if region is None:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
        except phonenumbers.NumberParseException:
            return None
    if not region or region not in _supported_countries():
        return None
    return str(region)


def _single_region(e164: str) -> str | None:
    """The region of a country calling code that belongs to one region only (``+49`` -> DE), read from the
    digits without parsing the number (parsing costs ~25 µs; a plan asks for 100,000 numbers). None for a
    shared code (``+1``, ``+44``, ``+7``, ...) or an unknown one: then the number must be parsed."""
    if not e164.startswith("+"):
        return None
    for length in (1, 2, 3):  # calling codes are prefix-free: the first one that exists is the one
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(e164[1 : 1 + length] or 0))
        if regions is not None:
            return regions[0] if len(regions) == 1 and regions[0] != "001" else None
    return None


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


@lru_cache(maxsize=256)
def _calendar(calendar: str) -> holidays.HolidayBase:
    """The holidays package's calendar for ``"US"`` or ``"US-CA"`` (country, then subdivision)."""
    country, _, subdivision = calendar.partition("-")
    try:
        return holidays.country_holidays(country, subdiv=subdivision or None)
    except NotImplementedError:
        raise ValueError(f"no public-holiday calendar {calendar!r} in the holidays package") from None


@lru_cache(maxsize=2048)
def _holiday_dates(calendar: str, year: int) -> frozenset[date]:
    """A calendar's public holidays in a year (observed days included)."""
    country, _, subdivision = calendar.partition("-")
    found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(found.keys())


# --- the decision --------------------------------------------------------------------------------------


def _open_local(window: CallingWindow, local: datetime) -> bool:
    """Wall-clock test; minute bounds make the hour and minute decide, seconds never matter."""
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()
    if any(start <= minute < end for start, end in window.intervals[weekday]):
        open_now = True
    else:  # the small hours belong to an interval that opened the evening before
        open_now = any(minute + MINUTES_PER_DAY < end for _, end in window.intervals[weekday - 1])
    if not open_now:
        return False
    return not (window.blocked or window.holiday_calendar) or not window.closed_on(local.date())


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
    """True when ``at`` (aware) is allowed by every rule on the wall clock of every zone."""
    _aware(at, "at")
    return all(_open_local(window, at.astimezone(_zone(name))) for name in _names(zones))


# --- searching for the next opening ---------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _boundary(zone_name: str, day: int, minute: int) -> tuple[int, ...]:
    """UTC seconds at which wall time ``minute`` (since midnight) on ``day`` (an ordinal) starts, per zone.

    One instant normally. In a DST gap or a repeated hour it returns both fold readings plus the
    transition instant between them, because that is where the clock jumps over (or back across) the
    boundary. Cached: a warm Lambda asks about the same few zones and days over and over.
    """
    zone = _zone(zone_name)
    wall = datetime.fromordinal(day).replace(hour=minute // 60, minute=minute % 60, tzinfo=zone)
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


def _edges(window: CallingWindow) -> tuple[int, ...]:
    """Every wall-clock minute at which the rules can change: interval starts and ends, and midnight
    (where a blocked or holiday date begins or ends)."""
    found = {0}
    for intervals in window.intervals:
        for start, end in intervals:
            found.update((start, end % MINUTES_PER_DAY))
    return tuple(sorted(found))


@lru_cache(maxsize=4096)
def _candidates(edges: tuple[int, ...], zone_name: str, first_day: date, last_day: date) -> tuple[int, ...]:
    """Every instant at which the zone's status can turn to open, in order (a superset; callers test each).

    The status is a function of the local date and wall clock, so it can only change where the clock
    reaches an edge, or where a tz transition makes it jump over one (both covered by ``_boundary``).
    Keyed by the edges alone, so rules that differ only in their closed dates share the work.
    """
    found: list[int] = []
    for ordinal in range(first_day.toordinal(), last_day.toordinal() + 1):
        for minute in edges:
            found.extend(_boundary(zone_name, ordinal, minute))
    return tuple(sorted(set(found)))


def _closed_days(window: CallingWindow, first: date, last: date) -> int:
    if not (window.blocked or window.holiday_calendar):
        return 0
    return sum(window.closed_on(first + timedelta(days=n)) for n in range((last - first).days + 1))


def search_horizon(window: CallingWindow, after: datetime) -> timedelta:
    """``HORIZON`` plus one day per closed date met on the way (dates are compared a day wide either
    side, as the zones' local dates differ from UTC's), at most ``MAX_SEARCH_DAYS``."""
    return timedelta(days=_horizon_days(window, after.astimezone(UTC).date()))


@lru_cache(maxsize=4096)
def _horizon_days(window: CallingWindow, day: date) -> int:
    first = day - timedelta(days=1)
    span = HORIZON.days
    while span < MAX_SEARCH_DAYS:
        wider = HORIZON.days + _closed_days(window, first, day + timedelta(days=span + 2))
        if wider <= span:
            break
        span = min(wider, MAX_SEARCH_DAYS)
    return span


def next_open(window: CallingWindow, zones: Sequence[str], after: datetime) -> datetime | None:
    """Earliest aware UTC instant >= ``after`` at which ``is_open`` holds over all the rules, or None when
    none is within ``search_horizon`` (the zones' hours never overlap).

    Returns ``after`` itself when already open. Cached per rules, zone set and instant: a plan asks the
    same question for every contact of a zone set, and answers in microseconds after the first.
    """
    _aware(after, "after")
    moment = after.timestamp()
    found = _first_open(window, tuple(_names(zones)), moment)
    if found is None:
        return None
    return after if found == moment else datetime.fromtimestamp(found, UTC)


@lru_cache(maxsize=65536)
def _first_open(window: CallingWindow, names: tuple[str, ...], moment: float) -> float | None:
    """The answer as a timestamp (``moment`` itself when open then).

    Otherwise the answer is an opening of some zone at which all zones are open, so it leapfrogs: each
    zone proposes its own next opening at or after the current guess, the guess moves to the latest
    proposal, until every zone agrees. Each zone only scans its own boundary list forward, so the cost
    is linear in the number of boundaries, not in seconds.
    """
    after = datetime.fromtimestamp(moment, UTC)
    loaded = [_zone(name) for name in names]
    if all(_open_local(window, after.astimezone(zone)) for zone in loaded):
        return moment
    horizon = search_horizon(window, after)
    limit = int((after + horizon).timestamp())  # whole second: every candidate is one
    edges = _edges(window)
    lists: list[tuple[int, ...]] = []
    for name, zone in zip(names, loaded, strict=True):
        first_day = after.astimezone(zone).date() - timedelta(days=1)
        last_day = (after + horizon).astimezone(zone).date() + timedelta(days=1)
        lists.append(_candidates(edges, name, first_day, last_day))
    # Closed at `after`, so the answer is a boundary strictly later: a whole second >= floor + 1. Every
    # zone's proposal is <= the true answer while the guess is, so the guess never overshoots it.
    guess = int(moment) + 1
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
    return float(guess)
