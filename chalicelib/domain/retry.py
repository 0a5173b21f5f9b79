"""retry_config, with Bolna's field names and defaults."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .bounds import NOT_BOOL

RetryStatus = Literal["no-answer", "busy", "failed", "error"]


def _default_statuses() -> list[RetryStatus]:
    return ["no-answer", "busy", "failed"]


class RetryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Retry at all; off by default, as in Bolna.")
    max_retries: Annotated[int, Field(ge=1, le=3), NOT_BOOL] = Field(
        3, description="Retries per contact after the first call (1-3)."
    )
    retry_on_statuses: list[RetryStatus] = Field(
        default_factory=_default_statuses, max_length=4, description="Call statuses that are retried."
    )
    retry_on_voicemail: bool = Field(False, description="Retry a call that reached voicemail.")
    retry_intervals_minutes: list[Annotated[int, Field(ge=1, le=7 * 24 * 60), NOT_BOOL]] = Field(  # each a week at most
        default_factory=lambda: [30, 60, 120],
        min_length=1,
        max_length=3,
        description="Minutes before retry 1, 2, 3 (1-10080 each); the last repeats if the list is short.",
    )


def retry_delay_minutes(config: RetryConfig | None, status: str, voicemail: bool, attempt: int) -> int | None:
    """Minutes until the next attempt, or None when this attempt is the contact's last.

    `attempt` is the one that just ended (1 = first call); retries follow
    retry_intervals_minutes in order, the last interval repeating if the list is short.
    """
    if config is None or not config.enabled or attempt > config.max_retries:
        return None
    retryable = status in config.retry_on_statuses or (voicemail and config.retry_on_voicemail)
    if not retryable:
        return None
    intervals = config.retry_intervals_minutes
    return intervals[min(attempt - 1, len(intervals) - 1)]
