"""A delayed message that arrives early waits out the rest; one on time (or nearly) is handled now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.arrival import early_until

NOW = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_a_message_due_later_than_the_tolerance_waits_until_it_is_due() -> None:
    # Given a Scheduler delivery that fired 40 s before the message's time (it fires on the minute)
    # Then it waits for exactly that time
    assert early_until("2026-03-02T09:00:40.000Z", NOW, SECOND) == NOW + timedelta(seconds=40)


def test_a_message_within_the_tolerance_or_past_due_is_handled_now() -> None:
    assert early_until("2026-03-02T09:00:00.800Z", NOW, SECOND) is None
    assert early_until("2026-03-02T08:59:00.000Z", NOW, SECOND) is None


def test_a_message_with_no_due_time_is_handled_now() -> None:
    assert early_until(None, NOW, SECOND) is None
    assert early_until("", NOW, SECOND) is None
