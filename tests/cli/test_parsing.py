"""The CLI's own rules, without a server: start times and retry options."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from batchcall_cli.client import CliError
from batchcall_cli.uploads import calling_rules, parse_schedule, retry_config

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("+10m", "2026-12-01T09:10:00Z"),
        ("+1h", "2026-12-01T10:00:00Z"),
        ("+2d", "2026-12-03T09:00:00Z"),
        ("2026-12-01T10:00:00+05:30", "2026-12-01T10:00:00+05:30"),
        ("2026-12-01T10:00Z", "2026-12-01T10:00:00+00:00"),
    ],
)
def test_schedule_times(given: str, sent: str) -> None:
    assert parse_schedule(given, NOW) == sent


def test_a_time_without_offset_is_local_and_sent_with_its_offset() -> None:
    sent = datetime.fromisoformat(parse_schedule("2026-12-01T10:00", NOW))
    assert sent.tzinfo is not None  # the API refuses naive times: the CLI states the terminal's zone
    assert sent == datetime(2026, 12, 1, 10, 0).astimezone()


def test_an_unreadable_time_is_a_usage_error() -> None:
    with pytest.raises(CliError) as caught:
        parse_schedule("tomorrow", NOW)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("given", ["+999999999d", "+99999999999999999999s", "+9000000d"])
def test_a_start_beyond_the_calendar_is_a_usage_error_not_a_crash(given: str) -> None:
    # Given a relative start that no date can hold (Python's dates end in the year 9999)
    with pytest.raises(CliError) as caught:
        parse_schedule(given, NOW)
    # Then it is refused as bad usage, naming the option, rather than an "unexpected OverflowError"
    assert caught.value.exit_code == 2
    assert "--schedule" in caught.value.message


def test_retry_options() -> None:
    assert retry_config(None, None, None, False, None) is None  # the agent's retry defaults apply
    assert retry_config(True, None, None, False, None) == {"enabled": True}
    assert retry_config(None, 2, ["busy"], True, [5, 10]) == {
        "enabled": True,
        "max_retries": 2,
        "retry_on_statuses": ["busy"],
        "retry_on_voicemail": True,
        "retry_intervals_minutes": [5, 10],
    }
    assert retry_config(False, None, None, False, None) == {"enabled": False}


def test_calling_rule_options_become_the_batch_fields() -> None:
    # Given weekly hours as JSON, a single blocked day and a range, and the holiday opt-in
    rules = calling_rules('{"mon": [["09:00", "12:00"]]}', ["2026-12-25", "2026-12-30..2027-01-01"], True)
    # Then they are the API's fields; none given is none sent (the agent's apply)
    assert rules == {
        "calling_hours": {"mon": [["09:00", "12:00"]]},
        "blocked_dates": [{"start": "2026-12-25", "end": "2026-12-25"}, {"start": "2026-12-30", "end": "2027-01-01"}],
        "skip_public_holidays": True,
    }
    assert calling_rules(None, None, None) == {}
    with pytest.raises(CliError) as caught:
        calling_rules("mon 9-12", None, None)
    assert caught.value.exit_code == 2
