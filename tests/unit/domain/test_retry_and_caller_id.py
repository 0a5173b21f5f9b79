"""Retry decisions and caller-ID rotation, with no AWS."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.caller_id import pick_caller_id
from chalicelib.domain.retry import RetryConfig, retry_delay_minutes


def test_defaults_are_bolnas() -> None:
    config = RetryConfig()
    assert (config.enabled, config.max_retries, config.retry_on_voicemail) == (False, 3, False)
    assert config.retry_on_statuses == ["no-answer", "busy", "failed"]
    assert config.retry_intervals_minutes == [30, 60, 120]


def test_disabled_never_retries() -> None:
    assert retry_delay_minutes(RetryConfig(), "no-answer", False, 1) is None
    assert retry_delay_minutes(None, "no-answer", False, 1) is None


@pytest.mark.parametrize(("attempt", "expected"), [(1, 30), (2, 60), (3, 120), (4, None)])
def test_intervals_follow_the_list_and_stop_after_max_retries(attempt: int, expected: int | None) -> None:
    config = RetryConfig(enabled=True)
    assert retry_delay_minutes(config, "busy", False, attempt) == expected


def test_short_interval_list_repeats_its_last_value() -> None:
    config = RetryConfig(enabled=True, max_retries=3, retry_intervals_minutes=[5])
    assert [retry_delay_minutes(config, "failed", False, a) for a in (1, 2, 3)] == [5, 5, 5]


@pytest.mark.parametrize(
    ("status", "voicemail", "statuses", "on_voicemail", "retried"),
    [
        ("completed", False, ["no-answer"], False, False),
        ("completed", True, ["no-answer"], False, False),
        ("completed", True, ["no-answer"], True, True),
        ("error", False, ["no-answer", "busy", "failed"], False, False),
        ("error", False, ["error"], False, True),
        ("canceled", False, ["no-answer", "busy", "failed", "error"], False, False),
    ],
)
def test_what_is_retried(status: str, voicemail: bool, statuses: list[str], on_voicemail: bool, retried: bool) -> None:
    config = RetryConfig.model_validate(
        {"enabled": True, "retry_on_statuses": statuses, "retry_on_voicemail": on_voicemail}
    )
    assert (retry_delay_minutes(config, status, voicemail, 1) is not None) is retried


@pytest.mark.parametrize(
    "bad",
    [
        {"max_retries": 0},
        {"max_retries": 4},
        {"retry_on_statuses": ["completed"]},
        {"retry_intervals_minutes": []},
        {"retry_intervals_minutes": [0]},
        {"retry_intervals_minutes": [1, 2, 3, 4]},
        {"surprise": True},
    ],
)
def test_bad_config_names_the_field(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as err:
        RetryConfig.model_validate(bad)
    field = next(iter(bad))
    assert field in str(err.value)


def test_caller_id_prefers_the_recipients_country_round_robin() -> None:
    numbers = ["+12025550147", "+442079460958", "+12025550148"]
    assert [pick_caller_id(numbers, "+14155550132", i) for i in range(3)] == [
        "+12025550147",
        "+12025550148",
        "+12025550147",
    ]
    assert pick_caller_id(numbers, "+447700900123", 5) == "+442079460958"
    assert [pick_caller_id(numbers, "+919820012345", i) for i in range(3)] == numbers
    assert pick_caller_id([], "+919820012345", 0) is None
