"""What an agent is allowed to be: validated on create and on every patch."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .bounds import NOT_BOOL, NOT_TINY, Name, PhoneNumber, Text, http_url, unique
from .retry import RetryConfig

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: list[Weekday] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CallLimit = Annotated[int, Field(ge=1, le=1000), NOT_BOOL]
StartHour = Annotated[int, Field(ge=0, le=23), NOT_BOOL]
EndHour = Annotated[int, Field(ge=0, le=24), NOT_BOOL]
CallsPerSecond = Annotated[float, Field(ge=0.01, le=100, allow_inf_nan=False), NOT_BOOL, NOT_TINY]


def e164(value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number in +E.164 form: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class AgentFields(BaseModel):
    """Every optional agent field; shared by create and patch so the rules live once."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = Field(None, min_length=1, max_length=200)
    provider: Literal["simulator", "twilio", "http"] | None = None
    provider_config: dict[str, Any] | None = Field(None, max_length=50)
    welcome_message: Text | None = Field(None, max_length=4000)
    prompt: Text | None = Field(None, max_length=20000)
    from_phone_numbers: list[PhoneNumber] | None = Field(None, max_length=50)
    max_concurrent_calls: CallLimit | None = None
    calls_per_second: CallsPerSecond | None = None
    call_start_hour: StartHour | None = None
    call_end_hour: EndHour | None = Field(None, description="exclusive; 24 means until midnight")
    call_days: list[Weekday] | None = Field(None, min_length=1, max_length=7)
    timezone: str | None = Field(None, max_length=64)
    webhook_url: str | None = Field(None, max_length=2000)
    retry_config: RetryConfig | None = None

    @field_validator("from_phone_numbers")
    @classmethod
    def _numbers(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [e164(number) for number in value]

    @field_validator("call_days")
    @classmethod
    def _days(cls, value: list[Weekday] | None) -> list[Weekday] | None:
        return unique(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value not in available_timezones():
            raise ValueError(f"{value!r} is not an IANA time zone such as Asia/Kolkata")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return http_url(value)

    @field_validator("provider_config")
    @classmethod
    def _no_secret_echo(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(str(value)) > 8000:
            raise ValueError("provider_config is too large")
        return value


class AgentCreate(AgentFields):
    name: Name = Field(..., min_length=1, max_length=200)
    provider: Literal["simulator", "twilio", "http"] = "simulator"
    max_concurrent_calls: CallLimit = 10
    call_start_hour: StartHour = 9
    call_end_hour: EndHour = 21
    call_days: list[Weekday] = Field(default_factory=lambda: list(ALL_DAYS), min_length=1, max_length=7)
    from_phone_numbers: list[PhoneNumber] = Field(default_factory=list, max_length=50)
    welcome_message: Text = Field("Hello {customer_name}, this is an automated call.", max_length=4000)

    @model_validator(mode="after")
    def _window(self) -> AgentCreate:
        if self.call_start_hour == self.call_end_hour:
            raise ValueError("call_start_hour and call_end_hour must differ (a window may cross midnight)")
        return self


class AgentPatch(AgentFields):
    pass
