"""How the per-number contact limit's sliding window is counted (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.contact_limits import ContactLimit, limit_of

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def test_fewer_attempts_than_the_limit_leave_a_slot_free() -> None:
    assert ContactLimit(3, 7).frees_at([epoch(NOW), epoch(NOW - timedelta(hours=1))]) is None


def test_the_next_slot_opens_when_the_nth_most_recent_attempt_leaves_the_window() -> None:
    # Given 3 per 7 days and claims 1 h, 1 day and 3 days ago (newest first), plus an older one
    history = [epoch(NOW - timedelta(hours=1)), epoch(NOW - timedelta(days=1)), epoch(NOW - timedelta(days=3))]
    history.append(epoch(NOW - timedelta(days=30)))
    # Then a slot frees 7 days after the third most recent claim: 4 days from now
    assert ContactLimit(3, 7).frees_at(history) == NOW + timedelta(days=4)


def test_the_window_starts_d_days_before_now() -> None:
    assert ContactLimit(1, 2).window_start(NOW) == epoch(NOW - timedelta(days=2))


def test_a_limit_needs_both_fields() -> None:
    assert limit_of(3, 7) == ContactLimit(3, 7)
    assert limit_of(3, None) is None and limit_of(None, 7) is None and limit_of(0, 7) is None
