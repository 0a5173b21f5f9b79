"""What an agent is allowed to be: validated on create and on every patch."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .bounds import NOT_BOOL, NOT_TINY, Name, PhoneNumber, Text, http_url, unique
from .calling_rules import DOCS as RULE_DOCS
from .calling_rules import BlockedDates, CallingHours, Weekday, refuse_mix
from .contact_limits import MAX_ATTEMPTS, MAX_DAYS
from .extraction import ExtractionField, ExtractionSchema, check_schema
from .json_input import JsonObject
from .numbers import e164
from .retry import RetryConfig

ALL_DAYS: list[Weekday] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CallLimit = Annotated[int, Field(ge=1, le=1000), NOT_BOOL]
StartHour = Annotated[int, Field(ge=0, le=23), NOT_BOOL]
EndHour = Annotated[int, Field(ge=0, le=24), NOT_BOOL]
CallsPerSecond = Annotated[float, Field(ge=0.01, le=100, allow_inf_nan=False), NOT_BOOL, NOT_TINY]
MaxSpend = Annotated[float, Field(ge=0.01, le=1_000_000, allow_inf_nan=False), NOT_BOOL, NOT_TINY]


# Each field's meaning, shared by create and patch (the OpenAPI document, /docs and docs/agents.md show it).
DOCS: dict[str, str] = {
    "name": "A label for people, shown in listings.",
    "provider": "Who places the calls: `simulator` (a simulated phone network, no real calls), `twilio`, or "
    "`http` (a voice-agent HTTP API such as Bolna's `POST /call`).",
    "provider_config": "The provider's settings (docs/agents.md lists them): names of credentials, never "
    "secrets. Answers show only its keys (`provider_config_keys`).",
    "welcome_message": "What the agent says first. `{customer_name}` (or `{{customer_name}}`) placeholders are "
    "filled from the contact's columns.",
    "prompt": "The voice agent's instructions, sent to an `http` provider; placeholders as in welcome_message.",
    "from_phone_numbers": "Caller IDs in E.164 (`+14155552671`), used in rotation; a batch's own list wins.",
    "max_concurrent_calls": "Live calls at once, across all of the agent's batches (a batch may set a lower cap).",
    "calls_per_second": "Call starts per second; unset: unpaced (Twilio agents: 1, a Twilio account's default).",
    "call_start_hour": "First hour (0-23) of the calling window, on the recipient's local clock (the zone of the "
    "number). A new agent calls only 09:00-21:00 unless you set them.",
    "call_end_hour": "End of the calling window, exclusive (1-24; 24 means until midnight), on the recipient's "
    "clock. A window may cross midnight (22 to 6).",
    "call_days": "Weekdays on which the window opens (`mon` ... `sun`), on the recipient's clock.",
    **RULE_DOCS,
    "timezone": "IANA zone (e.g. `Asia/Kolkata`) used only for numbers whose own zone is unknown.",
    "webhook_url": "Receives each call's execution object when it ends (a batch's webhook_url wins); must pass "
    "the SSRF checks (no private or loopback addresses unless the deployment allows them).",
    "retry_config": "Retries of unanswered calls, used by the agent's batches that set none.",
    "monthly_max_spend": "Budget per calendar month (UTC) for the cost the agent's calls report, across its "
    "batches: once reached, no call is claimed and its running batches pause (`agent_budget_reached`) until "
    "the budget is raised or the month ends.",
    "extraction_schema": "What the voice agent should find out on each call (dispositions): up to 20 fields, each "
    "`{name, type, values, description}` with `type` `category` (one of `values`), `boolean`, `number` or `text`. "
    "Sent with an `http` provider's call request; the reported `extracted_data` is checked against it (a value "
    "that does not fit is kept and flagged in `extraction_errors`), becomes CSV columns, and each category and "
    "boolean field is counted on the batch (`extraction_breakdown`).",
    "max_attempts_per_number": "Contact limit: at most this many call attempts per number within "
    "`attempt_window_days`, counted across every batch of the tenant (set both; unset: no limit).",
    "attempt_window_days": "Contact limit: the sliding window, in days, that `max_attempts_per_number` counts in.",
}


class AgentFields(BaseModel):
    """Every optional agent field; shared by create and patch so the rules live once."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = Field(None, min_length=1, max_length=200, description=DOCS["name"])
    provider: Literal["simulator", "twilio", "http"] | None = Field(None, description=DOCS["provider"])
    provider_config: JsonObject | None = Field(None, max_length=50, description=DOCS["provider_config"])
    welcome_message: Text | None = Field(None, max_length=4000, description=DOCS["welcome_message"])
    prompt: Text | None = Field(None, max_length=20000, description=DOCS["prompt"])
    from_phone_numbers: list[PhoneNumber] | None = Field(None, max_length=50, description=DOCS["from_phone_numbers"])
    max_concurrent_calls: CallLimit | None = Field(None, description=DOCS["max_concurrent_calls"])
    calls_per_second: CallsPerSecond | None = Field(None, description=DOCS["calls_per_second"])
    call_start_hour: StartHour | None = Field(None, description=DOCS["call_start_hour"])
    call_end_hour: EndHour | None = Field(None, description=DOCS["call_end_hour"])
    call_days: list[Weekday] | None = Field(None, min_length=1, max_length=7, description=DOCS["call_days"])
    calling_hours: CallingHours | None = Field(None, description=DOCS["calling_hours"])
    blocked_dates: BlockedDates | None = Field(None, description=DOCS["blocked_dates"])
    skip_public_holidays: bool | None = Field(None, description=DOCS["skip_public_holidays"])
    timezone: str | None = Field(None, max_length=64, description=DOCS["timezone"])
    webhook_url: str | None = Field(None, max_length=2000, description=DOCS["webhook_url"])
    retry_config: RetryConfig | None = Field(None, description=DOCS["retry_config"])
    monthly_max_spend: MaxSpend | None = Field(None, description=DOCS["monthly_max_spend"])
    extraction_schema: ExtractionSchema | None = Field(None, description=DOCS["extraction_schema"])

    @field_validator("extraction_schema")
    @classmethod
    def _schema(cls, value: list[ExtractionField] | None) -> list[ExtractionField] | None:
        return check_schema(value)

    max_attempts_per_number: Annotated[int, Field(ge=1, le=MAX_ATTEMPTS), NOT_BOOL] | None = Field(
        None, description=DOCS["max_attempts_per_number"]
    )
    attempt_window_days: Annotated[int, Field(ge=1, le=MAX_DAYS), NOT_BOOL] | None = Field(
        None, description=DOCS["attempt_window_days"]
    )

    @field_validator("from_phone_numbers")
    @classmethod
    def _numbers(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [e164(number) for number in value]

    @model_validator(mode="after")
    def _one_hours_rule(self) -> AgentFields:
        refuse_mix(self.model_fields_set, self.calling_hours)
        return self

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
    def _no_secret_echo(cls, value: JsonObject | None) -> JsonObject | None:
        if value is not None and len(str(value)) > 8000:
            raise ValueError("provider_config is too large")
        return value


class AgentCreate(AgentFields):
    name: Name = Field(..., min_length=1, max_length=200, description=DOCS["name"])
    provider: Literal["simulator", "twilio", "http"] = Field("simulator", description=DOCS["provider"])
    max_concurrent_calls: CallLimit = Field(10, description=DOCS["max_concurrent_calls"])
    call_start_hour: StartHour = Field(9, description=DOCS["call_start_hour"])
    call_end_hour: EndHour = Field(21, description=DOCS["call_end_hour"])
    call_days: list[Weekday] = Field(
        default_factory=lambda: list(ALL_DAYS), min_length=1, max_length=7, description=DOCS["call_days"]
    )
    from_phone_numbers: list[PhoneNumber] = Field(
        default_factory=list, max_length=50, description=DOCS["from_phone_numbers"]
    )
    welcome_message: Text = Field(
        "Hello {customer_name}, this is an automated call.", max_length=4000, description=DOCS["welcome_message"]
    )
    blocked_dates: BlockedDates = Field(default_factory=list, description=DOCS["blocked_dates"])
    skip_public_holidays: bool = Field(False, description=DOCS["skip_public_holidays"])

    @model_validator(mode="after")
    def _window(self) -> AgentCreate:
        if self.call_start_hour == self.call_end_hour:
            raise ValueError("call_start_hour and call_end_hour must differ (a window may cross midnight)")
        return self


class AgentPatch(AgentFields):
    pass
