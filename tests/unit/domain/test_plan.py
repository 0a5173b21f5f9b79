"""The plan's arithmetic: first possible dials per zone set, and the deterministic campaign projection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from chalicelib.domain.calling_window import ALL_DAYS, CallingWindow
from chalicelib.domain.contact_limits import ContactLimit, NumberState
from chalicelib.domain.plan import (
    BLOCKED_DATE,
    CONTACT_LIMIT,
    HOLIDAY,
    NO_OPEN_TIME,
    NOW,
    OUTSIDE_HOURS,
    SUPPRESSED,
    Assumptions,
    Capacity,
    FirstDials,
    Histogram,
    NumberLimits,
    answered,
    project,
    with_number,
)
from chalicelib.domain.retry import RetryConfig

MONDAY_1PM = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
LONDON, WASHINGTON = "+442079460001", "+12025550100"
NINE_TO_FIVE = CallingWindow(9, 17, ALL_DAYS)
TALK = Assumptions(mean_call_seconds=600, answer_rate=1.0, price_per_minute=0.1, ring_seconds=0)


def test_first_dial_is_now_when_open_and_the_next_opening_when_not() -> None:
    # Given 09-17 on the recipient's clock, at 13:00 UTC on a Monday
    rules = FirstDials(NINE_TO_FIVE, None, MONDAY_1PM)
    # Then London (13:00) is callable now and Washington (08:00) waits for 09:00 there, 14:00 UTC
    assert (rules.of(LONDON).at, rules.of(LONDON).reason) == (MONDAY_1PM, NOW)
    later = rules.of(WASHINGTON)
    assert (later.at, later.reason) == (datetime(2026, 11, 30, 14, 0, tzinfo=UTC), OUTSIDE_HOURS)
    # And numbers sharing a zone set share one answer (asked once)
    assert rules.of("+12025550101") is later and len(rules.rules) == 2


def test_a_blocked_date_and_a_holiday_of_the_recipient_s_country_are_reasons_to_wait() -> None:
    # Given 09-17, Monday 30 November blocked, at 15:00 UTC (London 15:00, Washington 10:00: both in hours)
    start = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    blocked = CallingWindow(9, 17, ALL_DAYS, blocked=((date(2026, 11, 30), date(2026, 11, 30)),))
    dial = FirstDials(blocked, None, start).of(LONDON)
    # Then London waits for Tuesday 09:00, because of the blocked date
    assert (dial.at, dial.reason) == (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), BLOCKED_DATE)
    # Given holidays opted in, on US Thanksgiving (26 November 2026) at 15:00 UTC
    thanksgiving = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    rules = FirstDials(CallingWindow(9, 17, ALL_DAYS, public_holidays=True), None, thanksgiving)
    # Then a US number waits for Friday 09:00 in Washington because of the holiday; a UK number does not wait
    us = rules.of(WASHINGTON)
    assert (us.at, us.reason) == (datetime(2026, 11, 27, 14, 0, tzinfo=UTC), HOLIDAY)
    assert rules.of(LONDON).reason == NOW


def test_the_number_s_own_item_decides_at_its_first_dial_as_the_claim_does() -> None:
    # Given 09-17 at 13:00 UTC on a Monday, at most 1 attempt per number per day, and a 72 h wait at most
    rules = FirstDials(NINE_TO_FIVE, None, MONDAY_1PM)
    limit, wait = ContactLimit(1, 1), timedelta(hours=72)
    london, washington = rules.of(LONDON), rules.of(WASHINGTON)
    at = datetime.fromisoformat
    # Then a number suppressed for good is never dialled; one whose entry expires before its first dial is
    forever = NumberState(suppressed=True)
    assert with_number(london, forever, None, wait, rules).reason == SUPPRESSED
    assert with_number(london, forever, None, wait, rules).at is None
    expires_at_1330 = NumberState(suppressed=True, suppressed_until="2026-11-30T13:30:00.000Z")
    assert with_number(washington, expires_at_1330, None, wait, rules) == washington  # first dial 14:00
    assert with_number(london, expires_at_1330, None, wait, rules).reason == SUPPRESSED  # 13:00
    # And a number called yesterday at 13:30 UTC waits until 13:30 today in London (open then) ...
    called = NumberState(attempts=(int(at("2026-11-29T13:30:00+00:00").timestamp()),))
    limited = with_number(london, called, limit, wait, rules)
    assert (limited.at, limited.reason) == (at("2026-11-30T13:30:00+00:00"), CONTACT_LIMIT)
    # ... and not at all for Washington, whose first dial (14:00) is after that
    assert with_number(washington, called, limit, wait, rules) == washington
    # And a slot that frees at 22:00 UTC (outside London's hours) means the next opening, 09:00 Tuesday
    late = NumberState(attempts=(int(at("2026-11-29T22:00:00+00:00").timestamp()),))
    assert with_number(london, late, limit, wait, rules).at == at("2026-12-01T09:00:00+00:00")
    # And a slot freeing beyond the longest wait means never (the claim ends it `contact_limited`)
    weekly = with_number(london, called, ContactLimit(1, 7), wait, rules)
    assert (weekly.at, weekly.reason) == (None, CONTACT_LIMIT)
    # And without a limit, the history does not matter
    assert with_number(london, called, None, wait, rules) == london


def test_bypass_makes_every_contact_callable_at_the_start() -> None:
    rules = FirstDials(None, None, MONDAY_1PM)
    assert rules.of(WASHINGTON).reason == NOW and rules.of(WASHINGTON).at == MONDAY_1PM


def test_a_number_whose_zones_never_share_an_open_hour_is_never_dialled() -> None:
    # Given a one-hour window and a +1 toll-free number (zones from Hawaii to Newfoundland never agree)
    rules = FirstDials(CallingWindow(9, 10, ALL_DAYS), None, MONDAY_1PM)
    dial = rules.of("+18005550100")
    assert (dial.at, dial.reason) == (None, NO_OPEN_TIME)
    assert project([(0, dial)], rules, Capacity(1, None), TALK, None).never_dialled == 1


def test_the_live_call_limit_queues_calls_behind_each_other() -> None:
    # Given 6 contacts open now, 10-minute calls, 2 live at most
    rules = FirstDials(None, None, MONDAY_1PM)
    result = project([(i, rules.of(LONDON)) for i in range(6)], rules, Capacity(2, None), TALK, None)
    # Then they run in three rounds: completion 30 minutes after the start, two live throughout
    assert result.first_dial_at == MONDAY_1PM
    assert result.last_dial_at == MONDAY_1PM + timedelta(minutes=20)
    assert result.completion_at == MONDAY_1PM + timedelta(minutes=30)
    assert (result.peak_live_calls, result.mean_live_calls, result.attempts) == (2, 2.0, 6)
    assert result.cost == 6 * 10 * 0.1


def test_pacing_spaces_the_starts() -> None:
    rules = FirstDials(None, None, MONDAY_1PM)
    result = project([(i, rules.of(LONDON)) for i in range(5)], rules, Capacity(100, 0.5), TALK, None)
    assert result.last_dial_at == MONDAY_1PM + timedelta(seconds=8)  # one start every 2 s


def test_a_call_that_waited_past_the_window_waits_for_the_next_opening() -> None:
    # Given 09-17 in London, 16:40 local, and three 10-minute calls with one slot
    start = datetime(2026, 11, 30, 16, 40, tzinfo=UTC)
    rules = FirstDials(NINE_TO_FIVE, None, start)
    result = project([(i, rules.of(LONDON)) for i in range(3)], rules, Capacity(1, None), TALK, None)
    # Then two fit before 17:00 and the third is dialled at 09:00 the next day
    assert result.last_dial_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert result.completion_at == datetime(2026, 12, 1, 9, 10, tzinfo=UTC)


def test_a_start_the_rules_refuse_does_not_free_a_busy_slot() -> None:
    # Given one live call at a time, 10-minute calls, hours 09:00-17:00 and 17:05-23:00 on the recipient's
    # clock (Moscow pauses 14:00-14:05 UTC), at 13:00 UTC: a London contact, six Moscow ones, a London one
    pause = ((9 * 60, 17 * 60), (17 * 60 + 5, 23 * 60))
    rules = FirstDials(CallingWindow(weekly=(pause,) * 7), None, MONDAY_1PM)
    numbers = [LONDON, *(f"+7495123456{i}" for i in range(6)), "+442079460002"]
    dials = [(i, rules.of(number)) for i, number in enumerate(numbers)]
    result = project(dials, rules, Capacity(1, None), TALK, None)
    # Then the calls go one after another: London 13:00, Moscow 13:10-13:50; the sixth Moscow contact's turn
    # comes at 14:00, in Moscow's pause: it waits for 14:05, and the last London contact takes the slot at
    # 14:00, when the Moscow call holding it ends (a refused start does not free a slot a call still holds);
    # the Moscow contact follows at 14:10
    assert (result.attempts, result.peak_live_calls) == (8, 1)
    assert result.last_dial_at == MONDAY_1PM + timedelta(hours=1, minutes=10)
    assert result.completion_at == MONDAY_1PM + timedelta(hours=1, minutes=20)


def test_unanswered_calls_are_retried_per_retry_config() -> None:
    # Given nobody answers and two retries 30 then 60 minutes apart
    rules = FirstDials(None, None, MONDAY_1PM)
    nobody = Assumptions(mean_call_seconds=60, answer_rate=0.0, price_per_minute=0.1, ring_seconds=30)
    retry = RetryConfig(enabled=True, max_retries=2, retry_intervals_minutes=[30, 60])
    result = project([(0, rules.of(LONDON))], rules, Capacity(1, None), nobody, retry)
    # Then three attempts: 13:00, 13:30:30, 14:31; nothing is billed
    assert (result.attempts, result.retries, result.answered, result.cost) == (3, 2, 0, 0.0)
    assert result.last_dial_at == MONDAY_1PM + timedelta(minutes=91)
    assert result.completion_at == MONDAY_1PM + timedelta(minutes=91, seconds=30)


def test_retries_count_against_the_contact_limit_with_the_number_s_earlier_calls() -> None:
    # Given nobody answers, two retries 30 then 60 minutes apart, and a 72 h longest wait for a slot
    rules = FirstDials(None, None, MONDAY_1PM)
    nobody = Assumptions(mean_call_seconds=60, answer_rate=0.0, price_per_minute=0.1, ring_seconds=30)
    retry = RetryConfig(enabled=True, max_retries=2, retry_intervals_minutes=[30, 60])
    wait = timedelta(hours=72)
    # When at most 1 attempt per number per 7 days applies: no retry can happen (a slot frees in 7 days)
    weekly = NumberLimits(ContactLimit(1, 7), wait)
    result = project([(0, rules.of(LONDON))], rules, Capacity(1, None), nobody, retry, weekly)
    assert (result.attempts, result.retries, result.never_dialled) == (1, 0, 0)
    # When at most 2 per day: the first retry goes at 13:30:30, the second waits for the first attempt to
    # leave the window (13:00 the next day)
    daily = NumberLimits(ContactLimit(2, 1), wait)
    result = project([(0, rules.of(LONDON))], rules, Capacity(1, None), nobody, retry, daily)
    assert (result.attempts, result.retries) == (3, 2)
    assert result.last_dial_at == MONDAY_1PM + timedelta(days=1)
    # And a number an earlier batch called at 12:00 has only one attempt left today: its first retry waits
    # until 12:00 the next day, the second goes when due (its ring ended at 12:00:30, + 60 min)
    called = NumberLimits(ContactLimit(2, 1), wait, {0: [int((MONDAY_1PM - timedelta(hours=1)).timestamp())]})
    result = project([(0, rules.of(LONDON))], rules, Capacity(1, None), nobody, retry, called)
    assert result.attempts == 3
    assert sorted(called.claims[0]) == [
        int((MONDAY_1PM + delta).timestamp())
        for delta in (timedelta(hours=-1), timedelta(0), timedelta(hours=23), timedelta(days=1, seconds=30))
    ]


def test_the_answered_share_tracks_the_rate_and_repeats() -> None:
    picked = [answered(i, 1, 0.3) for i in range(10_000)]
    assert abs(sum(picked) / len(picked) - 0.3) < 0.001
    assert picked == [answered(i, 1, 0.3) for i in range(10_000)]


def test_histogram_counts_per_bucket_with_empty_buckets_between() -> None:
    histogram = Histogram(MONDAY_1PM, timedelta(hours=1))
    for minutes in (0, 10, 130):
        histogram.add(MONDAY_1PM + timedelta(minutes=minutes))
    assert histogram.buckets() == [
        (MONDAY_1PM, 2),
        (MONDAY_1PM + timedelta(hours=1), 0),
        (MONDAY_1PM + timedelta(hours=2), 1),
    ]
