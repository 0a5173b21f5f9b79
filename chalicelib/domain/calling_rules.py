"""The calling rules as the API takes them (weekly hours, blocked dates, the holiday opt-in): one set of
field types for the agent, the batch and the schedule body, validated by the engine's own parsers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from . import json_input
from .calling_window import MAX_BLOCKED_RANGES, MAX_INTERVALS_PER_DAY, parse_blocked, parse_weekly
from .json_input import JsonInputError

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$", examples=["09:00"])]
IsoDate = Annotated[
    date,
    PlainSerializer(lambda day: day.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date", "maxLength": 10}),
]

RULE_FIELDS = ("calling_hours", "blocked_dates", "skip_public_holidays")
SHORTHAND_FIELDS = ("call_start_hour", "call_end_hour", "call_days")

DOCS: dict[str, str] = {
    "calling_hours": "Weekly calling hours on the recipient's clock: weekday -> list of `[start, end]` "
    '`HH:MM` pairs, e.g. `{"mon": [["09:00", "12:00"], ["13:00", "20:00"]], "sat": [["22:00", "02:00"]]}`. '
    "A day left out has no hours; an end at or before its start crosses midnight (the small hours belong "
    "to the day the interval opened on); `24:00` ends at midnight. Replaces `call_start_hour`, "
    "`call_end_hour` and `call_days` (send one or the other).",
    "blocked_dates": "Local date ranges (`start`..`end`, inclusive, on the recipient's clock) when nobody "
    'is called, e.g. `[{"start": "2026-12-24", "end": "2027-01-01"}]`.',
    "skip_public_holidays": "Call nobody on a public holiday of the recipient's country (the country of "
    "the number; the calendar used is the execution's `holiday_calendar`).",
}


def _hours(value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    parse_weekly(value)
    return value


class BlockedRange(BaseModel):
    """One inclusive range of local dates; ``end`` defaults to ``start`` (a single day)."""

    model_config = ConfigDict(extra="forbid")

    start: IsoDate = Field(..., description="First blocked date, `YYYY-MM-DD`.")
    end: IsoDate | None = Field(None, description="Last blocked date (inclusive); the start when omitted.")

    @model_validator(mode="after")
    def _ordered(self) -> BlockedRange:
        parse_blocked([self])
        return self


def _blocked(value: list[BlockedRange]) -> list[BlockedRange]:
    parse_blocked(value)
    return value


CallingHours = Annotated[
    dict[Weekday, Annotated[list[tuple[ClockTime, ClockTime]], Field(max_length=MAX_INTERVALS_PER_DAY)]],
    Field(max_length=7),
    AfterValidator(_hours),
]
BlockedDates = Annotated[list[BlockedRange], Field(max_length=MAX_BLOCKED_RANGES), AfterValidator(_blocked)]


def json_field(value: Any, name: str) -> Any:
    """A form field carries an object or a list as JSON text; blank means not given."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return json_input.loads(value)
    except JsonInputError as exc:
        raise ValueError(f"{name} must be JSON: {exc.message}") from None


def refuse_mix(fields_set: set[str], calling_hours: object) -> None:
    """``calling_hours`` replaces the shorthand: sending both in one request is ambiguous, so refused."""
    mixed = sorted(fields_set & set(SHORTHAND_FIELDS))
    if calling_hours is not None and mixed:
        raise ValueError(
            f"send calling_hours or the shorthand {', '.join(mixed)}, not both: calling_hours replaces "
            "call_start_hour, call_end_hour and call_days"
        )


class CallingRules(BaseModel):
    """A batch's own rules, each replacing the agent's when set (null: the agent's)."""

    model_config = ConfigDict(extra="forbid")

    calling_hours: CallingHours | None = Field(None, description=DOCS["calling_hours"])
    blocked_dates: BlockedDates | None = Field(None, description=DOCS["blocked_dates"])
    skip_public_holidays: bool | None = Field(None, description=DOCS["skip_public_holidays"])

    @field_validator("calling_hours", "blocked_dates", mode="before")
    @classmethod
    def _json_text(cls, value: Any, info: ValidationInfo) -> Any:
        """As form fields these arrive as JSON text."""
        return json_field(value, str(info.field_name))

    @classmethod
    def of(cls, record: Any) -> CallingRules | None:
        """The rules a stored batch set, or None when it set none (the agent's apply)."""
        values = {
            name: record.get(name) if isinstance(record, dict) else getattr(record, name, None) for name in RULE_FIELDS
        }
        if isinstance(record, BaseModel):  # options as validated: their JSON shapes
            values = record.model_dump(mode="json", include=set(RULE_FIELDS))
        set_ = {name: value for name, value in values.items() if value is not None}
        return cls.model_validate(set_) if set_ else None

    def stored(self) -> dict[str, object]:
        """The fields to write on the batch (JSON shapes; nulls left out)."""
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def stored_of(cls, options: Any) -> dict[str, object]:
        """The rules a batch's options set for it, as stored on the batch (none set: nothing, the agent's)."""
        rules = cls.of(options)
        return {} if rules is None else rules.stored()
