"""The calling rules beyond one window: weekly intervals with minutes, midnight, blocked dates, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.calling_window import (
    DAY_NAMES,
    HORIZON,
    CallingWindow,
    holiday_calendar_for,
    is_open,
    next_open,
    parse_blocked,
    parse_weekly,
    recipient_zones,
    search_horizon,
)

SECOND = timedelta(seconds=1)
NEW_YORK = ["America/New_York"]
BERLIN = ["Europe/Berlin"]
US_NUMBER = "+12125550123"
IN_NUMBER = "+919812345678"
SPLIT = CallingWindow(weekly=parse_weekly({d: [["09:00", "12:00"], ["13:00", "20:30"]] for d in DAY_NAMES[:5]}))


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_day_with_two_intervals_is_closed_over_lunch_and_reopens_at_the_minute() -> None:
    # Given Mon-Fri 09:00-12:00 and 13:00-20:30 in New York (Monday 2026-01-12)
    # Then 11:59:59 is open, lunch is closed, and the next opening from lunch is 13:00:00 exactly
    assert is_open(SPLIT, NEW_YORK, local("America/New_York", 2026, 1, 12, 11, 59) + 59 * SECOND)
    assert not is_open(SPLIT, NEW_YORK, local("America/New_York", 2026, 1, 12, 12))
    assert next_open(SPLIT, NEW_YORK, local("America/New_York", 2026, 1, 12, 12, 1)) == local(
        "America/New_York", 2026, 1, 12, 13
    )
    # And the minute bound at the end holds: 20:29:59 open, 20:30 closed, next is Tuesday 09:00
    assert is_open(SPLIT, NEW_YORK, local("America/New_York", 2026, 1, 12, 20, 29) + 59 * SECOND)
    assert not is_open(SPLIT, NEW_YORK, local("America/New_York", 2026, 1, 12, 20, 30))
    assert next_open(SPLIT, NEW_YORK, local("America/New_York", 2026, 1, 12, 20, 30)) == local(
        "America/New_York", 2026, 1, 13, 9
    )
    # And Friday evening waits for Monday (no weekend hours)
    assert next_open(SPLIT, NEW_YORK, local("America/New_York", 2026, 1, 16, 21)) == local(
        "America/New_York", 2026, 1, 19, 9
    )


def test_an_interval_crossing_midnight_belongs_to_the_day_it_opened() -> None:
    # Given Saturday 22:00 -> 02:00 only (Saturday 2026-01-17)
    window = CallingWindow(weekly=parse_weekly({"sat": [["22:00", "02:00"]]}))
    # Then Sunday 01:59 is open (Saturday's interval) but Saturday 01:00 is not (Friday has none)
    assert is_open(window, BERLIN, local("Europe/Berlin", 2026, 1, 18, 1, 59))
    assert not is_open(window, BERLIN, local("Europe/Berlin", 2026, 1, 17, 1))
    assert not is_open(window, BERLIN, local("Europe/Berlin", 2026, 1, 18, 2))
    # And from Sunday 02:00 the next opening is next Saturday 22:00
    assert next_open(window, BERLIN, local("Europe/Berlin", 2026, 1, 18, 2)) == local("Europe/Berlin", 2026, 1, 24, 22)


def test_us_spring_forward_an_interval_starting_in_the_gap_opens_when_the_clock_jumps() -> None:
    # Given 02:30-04:00 on Sundays in New York, and 2026-03-08 when 02:00 EST jumps to 03:00 EDT
    window = CallingWindow(weekly=parse_weekly({"sun": [["02:30", "04:00"]]}))
    opened = next_open(window, NEW_YORK, local("America/New_York", 2026, 3, 8, 0))
    # Then it opens at the first instant after the gap, 03:00 EDT (07:00 UTC), and not a second before
    assert opened == utc(2026, 3, 8, 7)
    assert not is_open(window, NEW_YORK, opened - SECOND)
    assert not is_open(window, NEW_YORK, utc(2026, 3, 8, 8))  # 04:00 EDT: closed


def test_europe_spring_forward_and_fall_back_on_minute_bounds() -> None:
    # Given 02:15-05:00 every day in Berlin; on 2026-03-29 02:00 CET jumps to 03:00 CEST (01:00 UTC)
    window = CallingWindow(weekly=parse_weekly({d: [["02:15", "05:00"]] for d in DAY_NAMES}))
    assert next_open(window, BERLIN, utc(2026, 3, 28, 23)) == utc(2026, 3, 29, 1)
    # Given 02:30-03:00, which happens twice on 2026-10-25 (CEST until 01:00 UTC, then CET)
    repeated = CallingWindow(weekly=parse_weekly({d: [["02:30", "03:00"]] for d in DAY_NAMES}))
    # Then it opens at 02:30 CEST (00:30 UTC), and again at 02:30 CET (01:30 UTC) after the clock falls back
    assert next_open(repeated, BERLIN, utc(2026, 10, 25, 0)) == utc(2026, 10, 25, 0, 30)
    assert not is_open(repeated, BERLIN, utc(2026, 10, 25, 1))  # 02:00 CET
    assert next_open(repeated, BERLIN, utc(2026, 10, 25, 1)) == utc(2026, 10, 25, 1, 30)


def test_a_multi_zone_country_gets_a_time_open_in_every_zone() -> None:
    # Given a US toll-free number (zones from Guam to Puerto Rico) and Mon-Fri 10:00-12:00, 14:00-22:30
    zones = recipient_zones("+18005550123")
    assert len(zones) > 5
    window = CallingWindow(weekly=parse_weekly({d: [["10:00", "12:00"], ["14:00", "22:30"]] for d in DAY_NAMES[:5]}))
    after = utc(2026, 1, 12, 0)
    opened = next_open(window, zones, after)
    # Then the answer is open on every candidate clock, and the second before it is not
    if opened is None:  # the zones never agree: the number is refused, never called on a guess
        assert all(not is_open(window, zones, after + timedelta(minutes=15) * n) for n in range(4 * 24 * 8))
        return
    assert all(is_open(window, [zone], opened) for zone in zones)
    assert not is_open(window, zones, opened - SECOND)


def test_a_blocked_range_closes_whole_local_dates_and_the_search_reaches_past_it() -> None:
    # Given 09:00-21:00 and a shutdown 2026-12-24 .. 2027-01-03 (eleven days, longer than HORIZON)
    window = CallingWindow(blocked=parse_blocked([{"start": "2026-12-24", "end": "2027-01-03"}]))
    # Then nothing on Christmas Eve morning in New York, and the next call is on 2027-01-04 at 09:00
    assert not is_open(window, NEW_YORK, local("America/New_York", 2026, 12, 24, 10))
    assert is_open(window, NEW_YORK, local("America/New_York", 2026, 12, 23, 20, 59))
    assert next_open(window, NEW_YORK, local("America/New_York", 2026, 12, 23, 21)) == local(
        "America/New_York", 2027, 1, 4, 9
    )
    assert search_horizon(window, utc(2026, 12, 23)) > HORIZON


def test_a_blocked_date_cuts_a_night_interval_at_midnight() -> None:
    # Given every night 22:00 -> 02:00 and Saturday 2026-01-17 blocked
    window = CallingWindow(
        weekly=parse_weekly({d: [["22:00", "02:00"]] for d in DAY_NAMES}),
        blocked=parse_blocked([{"start": "2026-01-17", "end": "2026-01-17"}]),
    )
    # Then Friday's interval runs until Saturday's midnight only, and reopens Sunday 00:00 (Saturday's interval)
    assert is_open(window, BERLIN, local("Europe/Berlin", 2026, 1, 16, 23, 59))
    assert not is_open(window, BERLIN, local("Europe/Berlin", 2026, 1, 17, 0, 30))
    assert next_open(window, BERLIN, local("Europe/Berlin", 2026, 1, 17, 0)) == local("Europe/Berlin", 2026, 1, 18, 0)


def test_holidays_of_the_recipients_country_and_not_of_another() -> None:
    # Given rules that skip public holidays, on US Thanksgiving (Thursday 2026-11-26)
    rules = CallingWindow(public_holidays=True)
    us, india = rules.for_number(US_NUMBER), rules.for_number(IN_NUMBER)
    assert (us.holiday_calendar, india.holiday_calendar) == ("US", "IN")
    thanksgiving_noon = local("America/New_York", 2026, 11, 26, 12)
    # Then a US number waits for Friday 09:00 in New York
    assert not is_open(us, NEW_YORK, thanksgiving_noon)
    assert next_open(us, NEW_YORK, thanksgiving_noon) == local("America/New_York", 2026, 11, 27, 9)
    # And an Indian number is called that day (not a holiday in India)
    assert is_open(india, ["Asia/Kolkata"], local("Asia/Kolkata", 2026, 11, 26, 12))
    # And without the opt-in the US number is called on Thanksgiving too
    assert CallingWindow().for_number(US_NUMBER).holiday_calendar is None
    assert is_open(CallingWindow().for_number(US_NUMBER), NEW_YORK, thanksgiving_noon)


@pytest.mark.parametrize(
    ("number", "calendar"),
    [("+12125550123", "US"), ("+442071234567", "GB"), ("+4930123456", "DE"), ("+80012345678", None), ("x", None)],
)
def test_holiday_calendar_is_the_numbers_country(number: str, calendar: str | None) -> None:
    assert holiday_calendar_for(number) == calendar


@pytest.mark.parametrize(
    "spec",
    [
        {"mon": [["9:00", "12:00"]]},  # not HH:MM
        {"mon": [["09:00", "25:00"]]},
        {"mon": [["24:00", "02:00"]]},  # 24:00 only as an end
        {"mon": [["09:00", "09:00"]]},  # empty
        {"mon": [["09:00"]]},
        {"monday": [["09:00", "12:00"]]},
        {"mon": []},  # never calls
        {"mon": [["09:00", "10:00"]] * 9},
    ],
)
def test_bad_weekly_hours_are_refused(spec: dict[str, list[list[str]]]) -> None:
    with pytest.raises(ValueError):
        parse_weekly(spec)


def test_the_shorthand_is_one_interval_on_its_days() -> None:
    # Given Bolna's shorthand 20 -> 2 on Fridays, and the same rule written as calling_hours
    shorthand = CallingWindow.from_agent({"call_start_hour": 20, "call_end_hour": 2, "call_days": ["fri"]})
    weekly = CallingWindow.from_agent({"calling_hours": {"fri": [["20:00", "02:00"]]}, "call_start_hour": 9})
    # Then both hold the same intervals, and calling_hours wins over the shorthand when both are stored
    assert shorthand.intervals == weekly.intervals
    # And a batch's own rules override the agent's, field by field
    batch = {"calling_hours": {"sat": [["10:00", "14:00"]]}, "skip_public_holidays": True}
    both = CallingWindow.from_agent({"blocked_dates": [{"start": "2026-12-25", "end": "2026-12-25"}]}, batch)
    assert both.intervals[5] == ((600, 840),) and both.public_holidays
    assert both.blocked == ((date(2026, 12, 25), date(2026, 12, 25)),)


@pytest.mark.parametrize(
    "ranges",
    [
        [{"start": "2026-12-26", "end": "2026-12-24"}],
        [{"start": "24/12/2026"}],
        [{"start": "2026-01-01", "end": "2027-06-01"}],
    ],
)
def test_bad_blocked_dates_are_refused(ranges: list[dict[str, str]]) -> None:
    with pytest.raises(ValueError):
        parse_blocked(ranges)


# --- property: the search agrees with a brute-force scan over all the rules --------------------------------

ZONES = ["UTC", "Asia/Kolkata", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/St_Johns"]
intervals = st.tuples(st.integers(0, 287), st.integers(1, 288)).map(lambda p: (p[0] * 5, p[0] * 5 + p[1] * 5))


@st.composite
def rules(draw: st.DrawFn) -> CallingWindow:
    week = draw(st.lists(st.lists(intervals, max_size=3), min_size=7, max_size=7).filter(any))
    first = draw(st.dates(date(2026, 1, 1), date(2026, 12, 31)))
    blocked = draw(st.lists(st.integers(0, 10), max_size=2))
    return CallingWindow(
        weekly=tuple(tuple(day) for day in week),
        blocked=tuple((first, first + timedelta(days=length)) for length in blocked),
        holiday_calendar=draw(st.sampled_from([None, "US", "DE"])),
    )


def _oracle(window: CallingWindow, zones: list[str], after: datetime) -> datetime | None:
    """Every offset and bound here is on a 5-minute grid, so a 5-minute scan is exact."""
    if is_open(window, zones, after):
        return after
    moment = datetime.fromtimestamp(-(-after.timestamp() // 300) * 300, UTC)
    limit = after + search_horizon(window, after)
    while moment <= limit:
        if moment > after and is_open(window, zones, moment):
            return moment
        moment += timedelta(minutes=5)
    return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    window=rules(),
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True),
    after=st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)),
)
def test_next_open_is_the_first_second_all_rules_allow(
    window: CallingWindow, zones: list[str], after: datetime
) -> None:
    assert next_open(window, zones, after) == _oracle(window, zones, after)


def test_the_calling_code_shortcut_agrees_with_parsing_for_every_region() -> None:
    # Given an example number of every region phonenumbers knows (shared calling codes included)
    supported = set(holidays.list_supported_countries())
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number(region)
        if example is None:
            continue
        number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        parsed_region = phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
        # Then the calendar is the parsed region's, when the holidays package has it
        assert holiday_calendar_for(number) == (parsed_region if parsed_region in supported else None), number


def test_a_calendar_the_holidays_package_lacks_is_refused() -> None:
    assert CallingWindow(holiday_calendar="US-CA").closed_on(date(2026, 3, 31))  # César Chávez Day, California
    assert not CallingWindow(holiday_calendar="US").closed_on(date(2026, 3, 31))
    for calendar in ("XX", "US-ZZ"):
        with pytest.raises(ValueError):
            CallingWindow(holiday_calendar=calendar)
