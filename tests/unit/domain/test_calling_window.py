"""Calling hours on the recipient's clock: boundaries, midnight, DST, multi-zone numbers, fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.calling_window import (
    ALL_DAYS,
    HORIZON,
    CallingWindow,
    is_open,
    next_open,
    recipient_zones,
)
from chalicelib.domain.records import Agent

KOLKATA = ["Asia/Kolkata"]
NEW_YORK = ["America/New_York"]
LONDON = ["Europe/London"]
WEEKDAYS = frozenset({"mon", "tue", "wed", "thu", "fri"})
DAY = CallingWindow(9, 21, ALL_DAYS)
NIGHT = CallingWindow(20, 2, ALL_DAYS)
SECOND = timedelta(seconds=1)

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def local(
    zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, *, fold: int = 0
) -> datetime:
    """A wall-clock reading in `zone`, as the UTC instant the functions take and return."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- the window itself ---------------------------------------------------------------------------------


def test_from_agent_defaults_to_nine_to_nine_every_day() -> None:
    # Given an agent stored without calling-hour fields (or with explicit nulls)
    # When the window is read from it
    # Then it is the agent defaults: 09-21, all seven days
    assert CallingWindow.from_agent(Agent(tenant_id="t", agent_id="a")) == CallingWindow(9, 21, ALL_DAYS)
    assert CallingWindow.from_agent(Agent(tenant_id="t", agent_id="a", call_start_hour=None, call_days=None)) == DAY


def test_from_agent_accepts_dynamodb_shapes() -> None:
    # Given an agent as DynamoDB returns it: Decimal hours, a string set of days
    item = {"call_start_hour": Decimal(20), "call_end_hour": Decimal(2), "call_days": {"fri", "SAT"}}
    agent = Agent.model_validate({"tenant_id": "t", "agent_id": "a", **item})
    # When / Then the window is the same as one built from plain values
    assert CallingWindow.from_agent(agent) == CallingWindow(20, 2, frozenset({"fri", "sat"}))


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (9, 9, ALL_DAYS),  # empty window
        (9, 25, ALL_DAYS),
        (24, 9, ALL_DAYS),
        (-1, 5, ALL_DAYS),
        (9, 21, frozenset()),
        (9, 21, frozenset({"monday"})),
        (9, 21, "mon"),
    ],
)
def test_invalid_windows_are_rejected(start: int, end: int, days: frozenset[str]) -> None:
    # Given / When a window is built from values that cannot describe calling hours
    # Then it fails loudly instead of never (or always) calling
    with pytest.raises(ValueError):
        CallingWindow(start, end, days)


def test_from_agent_rejects_fractional_hours_and_equal_bounds() -> None:
    with pytest.raises(ValueError):
        CallingWindow.from_agent(
            Agent.model_validate({"tenant_id": "t", "agent_id": "a", "call_start_hour": Decimal("9.5")})
        )
    with pytest.raises(ValueError):
        CallingWindow.from_agent(Agent(tenant_id="t", agent_id="a", call_start_hour=21))


def test_naive_datetimes_and_empty_zone_lists_are_rejected() -> None:
    with pytest.raises(ValueError):
        is_open(DAY, KOLKATA, datetime(2026, 1, 12, 10))
    with pytest.raises(ValueError):
        next_open(DAY, KOLKATA, datetime(2026, 1, 12, 10))
    with pytest.raises(ValueError):
        is_open(DAY, [], utc(2026, 1, 12))
    with pytest.raises(ValueError):
        is_open(DAY, "Asia/Kolkata", utc(2026, 1, 12))


# --- single zone ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "expected"),
    [((8, 59, 59), False), ((9, 0, 0), True), ((20, 59, 59), True), ((21, 0, 0), False)],
)
def test_india_boundaries(wall: tuple[int, int, int], expected: bool) -> None:
    # Given an Indian number and a 09-21 window
    zones = recipient_zones("+919812345678")
    assert zones == KOLKATA
    # When the clock in Kolkata reads `wall` on a Monday
    # Then start is inclusive and end exclusive, to the second
    assert is_open(DAY, zones, local("Asia/Kolkata", 2026, 1, 12, *wall)) is expected


def test_india_next_open_after_hours_is_next_morning() -> None:
    # Given 22:00 IST, after the window closed
    # When asking for the next opening
    # Then it is 09:00 IST the next day (03:30 UTC)
    assert next_open(DAY, KOLKATA, local("Asia/Kolkata", 2026, 1, 12, 22)) == utc(2026, 1, 13, 3, 30)


def test_next_open_returns_after_itself_when_open() -> None:
    # Given an instant inside the window, with sub-second precision
    moment = local("Asia/Kolkata", 2026, 1, 12, 10, 15, 30) + timedelta(microseconds=123)
    # When / Then the answer is that very instant: call now
    assert next_open(DAY, KOLKATA, moment) == moment


def test_weekday_filter_skips_the_weekend() -> None:
    # Given a Monday-Friday window and Saturday 10:00 IST
    window = CallingWindow(9, 21, WEEKDAYS)
    saturday = local("Asia/Kolkata", 2026, 1, 10, 10)
    # When / Then it is closed now and opens Monday 09:00 IST
    assert not is_open(window, KOLKATA, saturday)
    assert next_open(window, KOLKATA, saturday) == local("Asia/Kolkata", 2026, 1, 12, 9)


# --- crossing midnight ---------------------------------------------------------------------------------


def test_night_window_is_open_in_the_small_hours() -> None:
    # Given a 20-02 window
    # When the local clock reads 01:30, 20:00, 02:00 and 19:59:59
    # Then only the readings inside 20:00 -> 02:00 are open
    assert is_open(NIGHT, KOLKATA, local("Asia/Kolkata", 2026, 1, 13, 1, 30))
    assert is_open(NIGHT, KOLKATA, local("Asia/Kolkata", 2026, 1, 12, 20))
    assert not is_open(NIGHT, KOLKATA, local("Asia/Kolkata", 2026, 1, 13, 2))
    assert not is_open(NIGHT, KOLKATA, local("Asia/Kolkata", 2026, 1, 13, 19, 59, 59))


def test_small_hours_belong_to_the_day_the_window_opened() -> None:
    # Given a 20-02 window on Fridays only
    fridays = CallingWindow(20, 2, frozenset({"fri"}))
    # When / Then Saturday 01:30 is open (Friday night's window) but Friday 01:30 is not (Thursday's)
    assert is_open(fridays, KOLKATA, local("Asia/Kolkata", 2026, 1, 17, 1, 30))
    assert not is_open(fridays, KOLKATA, local("Asia/Kolkata", 2026, 1, 16, 1, 30))
    # And from Friday 01:30 the next opening is Friday 20:00
    assert next_open(fridays, KOLKATA, local("Asia/Kolkata", 2026, 1, 16, 1, 30)) == local(
        "Asia/Kolkata", 2026, 1, 16, 20
    )


# --- DST -----------------------------------------------------------------------------------------------


def test_new_york_number_resolves_to_new_york() -> None:
    assert recipient_zones("+12125550123") == NEW_YORK


def test_spring_forward_shortens_a_window_through_the_gap() -> None:
    # Given a 01-03 window on 2026-03-08, when New York skips 02:00-03:00 (at 07:00 UTC)
    window = CallingWindow(1, 3, ALL_DAYS)
    # When asking from local midnight
    opened = next_open(window, NEW_YORK, local("America/New_York", 2026, 3, 8, 0))
    # Then it opens at 01:00 EST = 06:00 UTC and closes one real hour later, at 03:00 EDT
    assert opened == utc(2026, 3, 8, 6)
    assert is_open(window, NEW_YORK, utc(2026, 3, 8, 6, 59, 59))
    assert not is_open(window, NEW_YORK, utc(2026, 3, 8, 7))
    # And the next day's window opens at 01:00 EDT = 05:00 UTC
    assert next_open(window, NEW_YORK, utc(2026, 3, 8, 7)) == utc(2026, 3, 9, 5)


def test_window_opening_inside_the_gap_opens_when_the_clock_jumps() -> None:
    # Given a 02-05 window: 02:00 does not exist in New York on 2026-03-08
    window = CallingWindow(2, 5, ALL_DAYS)
    # When asking from 01:00 EST
    opened = next_open(window, NEW_YORK, local("America/New_York", 2026, 3, 8, 1))
    # Then it opens at the jump, 07:00 UTC, which reads 03:00 EDT: inside the window, never before
    assert opened == utc(2026, 3, 8, 7)
    assert opened.astimezone(ZoneInfo("America/New_York")).hour == 3
    assert not is_open(window, NEW_YORK, opened - SECOND)


def test_fall_back_lengthens_a_window_over_the_repeated_hour() -> None:
    # Given a 01-03 window on 2026-11-01, when New York repeats 01:00-02:00 (EDT, then EST at 06:00 UTC)
    window = CallingWindow(1, 3, ALL_DAYS)
    # When asking from local midnight
    opened = next_open(window, NEW_YORK, local("America/New_York", 2026, 11, 1, 0))
    # Then it opens at the first 01:00 (EDT, 05:00 UTC), stays open through the second 01:00-02:00
    assert opened == utc(2026, 11, 1, 5) == local("America/New_York", 2026, 11, 1, 1, fold=0)
    assert is_open(window, NEW_YORK, local("America/New_York", 2026, 11, 1, 1, 30, fold=1))
    # And closes at 03:00 EST = 08:00 UTC: three real hours
    assert is_open(window, NEW_YORK, utc(2026, 11, 1, 7, 59, 59))
    assert not is_open(window, NEW_YORK, utc(2026, 11, 1, 8))


def test_window_opening_after_the_repeated_hour_opens_once() -> None:
    # Given a 02-04 window on fall-back day
    window = CallingWindow(2, 4, ALL_DAYS)
    # When asking during the first 01:00 hour (EDT)
    opened = next_open(window, NEW_YORK, local("America/New_York", 2026, 11, 1, 1, 30, fold=0))
    # Then it opens at 02:00 EST = 07:00 UTC, not during the repeated 01:00 hour
    assert opened == utc(2026, 11, 1, 7)
    assert not is_open(window, NEW_YORK, utc(2026, 11, 1, 6, 30))


def test_night_window_across_fall_back_gains_an_hour() -> None:
    # Given a 20-02 window on the Saturday night before fall-back
    # When / Then it is open until 02:00 EST = 07:00 UTC (seven real hours after 20:00 EDT)
    assert next_open(NIGHT, NEW_YORK, utc(2026, 10, 31, 12)) == utc(2026, 11, 1, 0)
    assert is_open(NIGHT, NEW_YORK, utc(2026, 11, 1, 6, 59, 59))
    assert not is_open(NIGHT, NEW_YORK, utc(2026, 11, 1, 7))


def test_london_last_sunday_of_march() -> None:
    # Given a UK number and a 01-03 window on 2026-03-29, when 01:00 GMT jumps to 02:00 BST
    assert recipient_zones("+442071234567") == LONDON
    window = CallingWindow(1, 3, ALL_DAYS)
    # When asking from midnight UTC
    opened = next_open(window, LONDON, utc(2026, 3, 29, 0))
    # Then it opens at the jump (01:00 UTC, reading 02:00 BST) and closes at 03:00 BST (02:00 UTC)
    assert opened == utc(2026, 3, 29, 1)
    assert opened.astimezone(ZoneInfo("Europe/London")).hour == 2
    assert not is_open(window, LONDON, utc(2026, 3, 29, 2))
    # And a 09-21 window that day opens at 09:00 BST = 08:00 UTC
    assert next_open(DAY, LONDON, utc(2026, 3, 29, 0)) == utc(2026, 3, 29, 8)


# --- zones of a number ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+919812345678", ["Asia/Kolkata"]),  # phonenumbers says Asia/Calcutta: renamed
        ("+12025550123", ["America/New_York"]),
        ("+18085550123", ["Pacific/Honolulu"]),
        ("+19075550123", ["America/Adak", "America/Anchorage"]),
        ("+12089999999", ["America/Boise", "America/Los_Angeles"]),
        ("+74951234567", ["Europe/Moscow"]),
        ("+61212345678", ["Australia/Sydney"]),
    ],
)
def test_recipient_zones_for_geographic_numbers(number: str, expected: list[str]) -> None:
    assert recipient_zones(number, "Asia/Tokyo") == expected  # known zones win over the default


@pytest.mark.parametrize(
    ("number", "count", "includes"),
    [
        ("+18005550123", 42, {"Pacific/Guam", "Pacific/Pago_Pago", "America/St_Johns", "America/New_York"}),
        ("+61412345678", 8, {"Australia/Perth", "Australia/Lord_Howe", "Indian/Cocos", "Australia/Sydney"}),
        ("+79123456789", 16, {"Europe/Moscow", "Asia/Kamchatka", "Europe/Bucharest", "Asia/Almaty"}),
        ("+447911123456", 4, {"Europe/London", "Europe/Jersey"}),
    ],
)
def test_recipient_zones_for_non_geographic_numbers(number: str, count: int, includes: set[str]) -> None:
    # Given a toll-free / mobile number: phonenumbers only knows the country, so all its zones come back
    zones = recipient_zones(number)
    # Then they are deduplicated and sorted
    assert len(zones) == count
    assert includes <= set(zones)
    assert zones == sorted(set(zones))


@pytest.mark.parametrize("number", ["+15555550123", "+881234567", "+61812345678", "not a number", ""])
def test_unknown_zone_falls_back_to_default_then_utc(number: str) -> None:
    # Given a number phonenumbers cannot place (invalid, satellite, unparseable)
    # When / Then the agent's default zone is used, else UTC
    assert recipient_zones(number, "Asia/Kolkata") == ["Asia/Kolkata"]
    assert recipient_zones(number) == ["UTC"]
    assert recipient_zones(number, None) == ["UTC"]


def test_invalid_default_timezone_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        recipient_zones("+15555550123", "Mars/Olympus_Mons")


# --- intersection of zones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "expected"),
    [((11, 59, 59), False), ((12, 0, 0), True), ((20, 59, 59), True), ((21, 0, 0), False)],
)
def test_new_york_and_los_angeles_share_noon_to_nine(wall: tuple[int, int, int], expected: bool) -> None:
    # Given a 09-21 window read in both New York and Los Angeles
    zones = ["America/New_York", "America/Los_Angeles"]
    # When / Then it is open only 12:00-21:00 New York time (09:00 LA .. 21:00 NY)
    assert is_open(DAY, zones, local("America/New_York", 2026, 1, 12, *wall)) is expected


def test_next_open_waits_for_the_westernmost_zone() -> None:
    zones = ["America/New_York", "America/Los_Angeles"]
    assert next_open(DAY, zones, local("America/New_York", 2026, 1, 12, 8)) == local(
        "America/New_York", 2026, 1, 12, 12
    )
    # Alaska: Adak is an hour behind Anchorage, so 09:00 in Adak
    assert next_open(DAY, recipient_zones("+19075550123"), utc(2026, 1, 12, 12)) == local(
        "America/Adak", 2026, 1, 12, 9
    )


def test_australian_mobile_opens_at_nine_on_cocos_closes_at_nine_on_lord_howe() -> None:
    # Given an Australian mobile: zones from Cocos (+06:30) to Lord Howe (+11:00 in January)
    zones = recipient_zones("+61412345678")
    # When / Then the shared window is 02:30-10:00 UTC
    assert next_open(DAY, zones, utc(2026, 1, 12, 12)) == utc(2026, 1, 13, 2, 30)
    assert is_open(DAY, zones, utc(2026, 1, 13, 9, 59, 59))
    assert not is_open(DAY, zones, utc(2026, 1, 13, 10))


def test_russian_mobile_has_two_hours_or_none() -> None:
    # Given a Russian mobile spanning Bucharest (+02:00) to Kamchatka (+12:00)
    zones = recipient_zones("+79123456789")
    # When / Then 09-21 overlaps only 07:00-09:00 UTC in winter
    assert next_open(DAY, zones, utc(2026, 1, 12, 0)) == utc(2026, 1, 12, 7)
    assert not is_open(DAY, zones, utc(2026, 1, 12, 9))
    # And a 09-18 window never overlaps across ten hours of zones
    assert next_open(CallingWindow(9, 18, ALL_DAYS), zones, utc(2026, 1, 12, 0)) is None


def test_no_overlap_returns_none() -> None:
    # Given zones exactly 12 hours apart and a 3-hour window
    zones = ["Etc/GMT-6", "Etc/GMT+6"]
    # When / Then there is never a shared minute
    assert next_open(CallingWindow(9, 12, ALL_DAYS), zones, utc(2026, 6, 1)) is None


def test_an_opening_beyond_the_horizon_is_none() -> None:
    # Given a Sunday-only window asked on a Sunday after it closed (next opening in 7 days)
    sundays = CallingWindow(9, 10, frozenset({"sun"}))
    after = local("Asia/Kolkata", 2026, 1, 11, 10)
    # When / Then it is found within the 8-day horizon, exactly a week later
    assert next_open(sundays, KOLKATA, after) == after + timedelta(days=7) - timedelta(hours=1)
    # And with zones that can never agree on a Sunday the search ends with None
    assert next_open(sundays, ["Etc/GMT-12", "Etc/GMT+12"], after) is None


def test_us_toll_free_has_a_short_shared_evening() -> None:
    # Given a US toll-free number: 42 zones from Guam (+10) to Pago Pago (-11)
    zones = recipient_zones("+18005550123")
    opened = next_open(DAY, zones, utc(2026, 1, 12, 3))
    # Then the only shared time is 23:00-00:30 UTC (09:00 Guam .. 21:00 St John's)
    assert opened == utc(2026, 1, 12, 23)
    assert is_open(DAY, zones, utc(2026, 1, 13, 0, 29, 59))
    assert not is_open(DAY, zones, utc(2026, 1, 13, 0, 30))


# --- properties ----------------------------------------------------------------------------------------

# Offsets and transitions here are all on a 15-minute grid (Kathmandu +05:45, Chatham +12:45, Lord Howe's
# half-hour DST), so a 15-minute scan is an exact oracle for whole-hour windows.
ZONES = [
    "UTC",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "Europe/London",
    "Australia/Lord_Howe",
    "Australia/Adelaide",
    "Pacific/Chatham",
]
TRANSITION_DAYS = [
    datetime(2026, 3, 8, tzinfo=UTC),  # US spring forward
    datetime(2026, 3, 29, tzinfo=UTC),  # EU spring forward
    datetime(2026, 4, 5, tzinfo=UTC),  # AU / NZ fall back
    datetime(2026, 9, 27, tzinfo=UTC),  # NZ spring forward
    datetime(2026, 10, 4, tzinfo=UTC),  # AU spring forward
    datetime(2026, 10, 25, tzinfo=UTC),  # EU fall back
    datetime(2026, 11, 1, tzinfo=UTC),  # US fall back
]

zone_lists = st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True)
instants = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31, 23, 59, 59), timezones=st.just(UTC)),
    st.builds(
        lambda day, offset: day + offset,
        st.sampled_from(TRANSITION_DAYS),
        st.timedeltas(timedelta(days=-2), timedelta(days=2)),
    ),
)


@st.composite
def valid_windows(draw: st.DrawFn) -> CallingWindow:
    start = draw(st.integers(0, 23))
    end = draw(st.integers(0, 23).filter(lambda hour: hour != start))
    days = draw(st.frozensets(st.sampled_from(sorted(ALL_DAYS)), min_size=1))
    return CallingWindow(start, end, days)


def _oracle(window: CallingWindow, zones: list[str], after: datetime) -> datetime | None:
    """Brute force on the 15-minute grid: every opening of these zones lies on it."""
    if is_open(window, zones, after):
        return after
    step = timedelta(minutes=15)
    moment = datetime.fromtimestamp(-(-after.timestamp() // 900) * 900, UTC)
    while moment <= after + HORIZON:
        if moment > after and is_open(window, zones, moment):
            return moment
        moment += step
    return None


@PROPERTY
@given(window=valid_windows(), zones=zone_lists, after=instants)
def test_next_open_is_the_first_open_second(window: CallingWindow, zones: list[str], after: datetime) -> None:
    # Given any window, up to three zones and an instant in 2026 (often near a DST change)
    # When asking for the next opening
    found = next_open(window, zones, after)
    # Then it is the earliest open instant at or after `after`
    if found is not None:
        assert found >= after
        assert found <= after + HORIZON
        assert is_open(window, zones, found)
        if found != after:
            assert not is_open(window, zones, found - SECOND)
            assert found.tzinfo is UTC and found.microsecond == 0
    # And it agrees exactly with a brute-force scan
    assert found == _oracle(window, zones, after)


def test_end_hour_24_means_until_midnight_so_0_24_is_all_day() -> None:
    # Given a window from 0 to 24 (all day) and one from 18 to 24
    from datetime import UTC, datetime

    all_day = CallingWindow(0, 24, frozenset(ALL_DAYS))
    evening = CallingWindow(18, 24, frozenset(ALL_DAYS))
    zones = ["America/New_York"]
    # Then every second of a day is open in the first, and 23:59:59 but not 00:00 in the second
    for hour in range(24):
        assert is_open(all_day, zones, datetime(2026, 11, 22, hour, 30, tzinfo=UTC))
    assert is_open(evening, zones, datetime(2026, 11, 23, 4, 59, 59, tzinfo=UTC))  # 23:59:59 EST
    assert not is_open(evening, zones, datetime(2026, 11, 23, 5, 0, 0, tzinfo=UTC))  # 00:00 EST
    assert next_open(evening, zones, datetime(2026, 11, 23, 5, 0, tzinfo=UTC)) == datetime(
        2026, 11, 23, 23, 0, tzinfo=UTC
    )
