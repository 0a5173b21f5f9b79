"""Start-time rules, with no AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.scheduling import parse_scheduled_at, plan_start
from chalicelib.errors import BadRequest

NOW = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T10:05:30Z", datetime(2026, 11, 22, 10, 5, 30, tzinfo=UTC)),
        ("2026-11-22T10:05:30z", datetime(2026, 11, 22, 10, 5, 30, tzinfo=UTC)),
        ("2026-11-22T15:35:30+05:30", datetime(2026, 11, 22, 10, 5, 30, tzinfo=UTC)),
        ("2026-11-22T05:05:30.250-05:00", datetime(2026, 11, 22, 10, 5, 30, 250000, tzinfo=UTC)),
    ],
)
def test_offsets_and_z_are_accepted_without_rounding(text: str, expected: datetime) -> None:
    assert parse_scheduled_at(text, NOW) == expected


@pytest.mark.parametrize("text", ["2026-11-22T10:05:30", "2026-11-22", "soon", "", None, 42, "2026-13-01T00:00:00Z"])
def test_naive_or_unparseable_times_are_refused(text: object) -> None:
    with pytest.raises(BadRequest) as err:
        parse_scheduled_at(text, NOW)
    assert err.value.code == "invalid_scheduled_at"


def test_past_and_present_are_refused() -> None:
    for text in ("2026-11-22T09:59:59Z", "2026-11-22T10:00:00Z"):
        with pytest.raises(BadRequest) as err:
            parse_scheduled_at(text, NOW)
        assert err.value.code == "scheduled_at_in_past"


def test_a_start_beyond_the_maximum_lead_is_refused_naming_the_limit() -> None:
    assert parse_scheduled_at("2027-11-22T10:00:00Z", NOW) == NOW + timedelta(days=365)
    for text in ("2027-11-22T10:00:01Z", "9999-12-31T23:59:59Z"):
        with pytest.raises(BadRequest) as err:
            parse_scheduled_at(text, NOW)
        assert err.value.code == "scheduled_at_too_far"
        assert "365 days" in err.value.message and "MAX_SCHEDULE_LEAD_DAYS" in err.value.message
        assert err.value.details == [{"field": "scheduled_at", "max_lead_days": 365, "latest": "2027-11-22T10:00:00Z"}]
    with pytest.raises(BadRequest) as err:
        parse_scheduled_at("2026-11-30T10:00:00Z", NOW, max_lead=timedelta(days=7))
    assert err.value.code == "scheduled_at_too_far" and "7 days" in err.value.message


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_time_that_cannot_be_represented_in_utc_is_refused_not_raised(text: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse_scheduled_at(text, NOW)
    assert err.value.code == "invalid_scheduled_at" and "scheduled_at" in err.value.message


def test_under_fifteen_minutes_is_an_exact_sqs_delay() -> None:
    plan = plan_start(NOW + timedelta(minutes=14, seconds=59), NOW)
    assert plan.delay_seconds == 899 and plan.schedule_at is None
    assert plan_start(NOW, NOW).delay_seconds == 0


def test_fifteen_minutes_and_more_is_a_schedule() -> None:
    plan = plan_start(NOW + timedelta(minutes=15), NOW)
    assert plan.delay_seconds is None and plan.schedule_at == NOW + timedelta(minutes=15)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22T15:35:30 05:30",
        "2026-11-22T15:35:30 0530",
        "2026-11-22 15:35:30 05:30",
        "2026-11-22T15:35:30.0 05:30",
    ],
)
def test_a_plus_sign_lost_to_form_encoding_is_read_back(text: str) -> None:
    # Given "+05:30" sent in a url-encoded form without %2B, so that it arrives as " 05:30"
    # Then it is the same moment as with the "+"
    assert parse_scheduled_at(text, NOW) == datetime(2026, 11, 22, 10, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-11-22T15:35:30  05:30", "2026-11-22T15:35:30 5:30", "2026-11-22 05:30"])
def test_only_a_lone_space_where_the_sign_belongs_is_read_as_plus(text: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse_scheduled_at(text, NOW)
    assert err.value.code == "invalid_scheduled_at"
