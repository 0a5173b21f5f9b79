"""Each provider's `provider_config` on an agent, and how its statuses map to ours.

Configs hold references to credentials (`credentials`: a name), never the credentials.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .bounds import NOT_BOOL, NOT_TINY, Name, has_scheme, http_url
from .call_status import NOT_DIALLED, CallStatus
from .json_input import JsonObject

CREDENTIALS_NAME = r"^[a-z][a-z0-9_-]{0,63}$"


def _url(value: str | None) -> str | None:
    return http_url(value)


FieldName = Annotated[str, Field(min_length=1, max_length=200)]  # a (dotted) JSON field name or a status value


class SimulatorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cost_per_minute: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False), NOT_BOOL, NOT_TINY] = Field(
        0.05, description="Simulated price per minute, shown as `total_cost`."
    )
    fixed_talk_seconds: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False), NOT_BOOL, NOT_TINY] | None = Field(
        None, description="Every answered call lasts this long; unset: a random length."
    )


class TwilioConfig(BaseModel):
    """How a Twilio call is made. With neither `twiml_url` nor `stream_url`, Twilio says the welcome message."""

    model_config = ConfigDict(extra="forbid")

    credentials: str = Field(
        "twilio",
        pattern=CREDENTIALS_NAME,
        description="Name of the Twilio credentials in the tenant's secret, never the secret itself.",
    )
    twiml_url: str | None = Field(None, max_length=2000, description="Twilio fetches the call's TwiML here.")
    stream_url: str | None = Field(
        None, max_length=2000, description="wss:// URL of a voice agent: the call is connected to it as a media stream."
    )
    machine_detection: bool = Field(
        True, description="Answering-machine detection: a machine is `answered_by_voice_mail`."
    )
    ring_timeout_seconds: Annotated[int, Field(ge=5, le=600), NOT_BOOL] = Field(
        30, description="Seconds to ring before `no-answer`."
    )
    record: bool = Field(False, description="Record the call; its URL becomes `telephony_data.recording_url`.")

    @field_validator("twiml_url")
    @classmethod
    def _twiml(cls, value: str | None) -> str | None:
        return _url(value)

    @field_validator("stream_url")
    @classmethod
    def _wss(cls, value: str | None) -> str | None:
        if value is not None and not has_scheme(value, "wss"):
            raise ValueError("must be a wss:// URL")
        return value


# Bolna-style names by default; each can be renamed (a dotted path nests it) or dropped with "".
DEFAULT_REQUEST_FIELDS: dict[str, str] = {
    "to": "recipient_phone_number",
    "from": "from_phone_number",
    "agent": "agent_id",
    "variables": "user_data",
    "reference": "metadata.execution_id",
    "callback_url": "webhook_url",
    "welcome_message": "agent_welcome_message",
    "prompt": "agent_prompt",
}
# `call_id` and `reference` (our execution id, echoed; by default where the request put it) bind a
# callback to its call: see providers/http_agent.py.
DEFAULT_EVENT_FIELDS: dict[str, str] = {
    "status": "status",
    "call_id": "call_id",
    "reference": "metadata.execution_id",
    "duration": "conversation_duration",
    "cost": "total_cost",
    "transcript": "transcript",
    "recording_url": "recording_url",
    "voicemail": "answered_by_voice_mail",
    "error": "error_message",
    # Bolna's execution object: what the voice agent found out, and the call's finer telephony details
    "extracted_data": "extracted_data",
    "summary": "summary",
    "cost_breakdown": "cost_breakdown",
    "transfer_call_data": "transfer_call_data",
    "hangup_reason": "telephony_data.hangup_reason",
    "hangup_by": "telephony_data.hangup_by",
    "hangup_provider_code": "telephony_data.hangup_provider_code",
    "ring_duration": "telephony_data.ring_duration",
    "telephony_duration": "telephony_data.duration",
    "post_dial_delay": "telephony_data.post_dial_delay",
    "opt_out": "opt_out",  # true: the person asked not to be called again (the number is suppressed)
}
DEFAULT_STATUS_MAP: dict[str, str] = {
    "queued": "initiated",
    "initiated": "initiated",
    "ringing": "ringing",
    "answered": "in-progress",
    "in-progress": "in-progress",
    "completed": "completed",
    "call-disconnected": "completed",
    "busy": "busy",
    "no-answer": "no-answer",
    "failed": "failed",
    "balance-low": "failed",
    "error": "error",
    "canceled": "canceled",
    "cancelled": "canceled",
}
STATUSES = {status.value for status in CallStatus} - {"queued", "rescheduled"} - set(NOT_DIALLED)


class HttpAgentConfig(BaseModel):
    """A single-call HTTP API (Bolna's `POST /call`, Bland's `POST /v1/calls`, your own)."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(..., max_length=2000, description="The URL each call is POSTed to (SSRF-checked).")
    agent_ref: Name | None = Field(None, max_length=200, description="The remote agent's id, sent as `agent`.")
    credentials: str = Field(
        "http_agent", pattern=CREDENTIALS_NAME, description="Name of the stored API key and callback signing secret."
    )
    request_fields: dict[str, Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict,
        max_length=20,
        description="Renames (dotted paths nest, \"\" drops) of the request's fields; Bolna's names by default.",
    )
    call_id_field: FieldName = Field(
        "call_id", description="Where the answer to the call request holds the remote call id."
    )
    event_fields: dict[str, FieldName] = Field(
        default_factory=dict,
        max_length=20,
        description="Renames of the callback's fields (status, call_id, reference, duration, ...).",
    )
    status_map: dict[FieldName, FieldName] = Field(
        default_factory=dict, max_length=100, description="Their call statuses -> ours, on top of the built-in map."
    )
    extraction_format: Literal["bolna", "bland"] = Field(
        "bolna",
        description="How the agent's extraction_schema travels in the call request: `bolna` (`extraction_prompt`, "
        "`extraction_schema`) or `bland` (`analysis_schema`, `dispositions`, `summary_prompt`).",
    )
    idempotent: bool = Field(
        False,
        description="The endpoint honours Idempotency-Key: a call whose dialer died after claiming it is placed "
        "again (with the same key) instead of ending in error.",
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return _url(value) or value

    @field_validator("request_fields", "event_fields")
    @classmethod
    def _known_names(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        known = DEFAULT_REQUEST_FIELDS if info.field_name == "request_fields" else DEFAULT_EVENT_FIELDS
        unknown = set(value) - set(known)
        if unknown:
            raise ValueError(f"unknown names {sorted(unknown)}; known: {sorted(known)}")
        return value

    @field_validator("status_map")
    @classmethod
    def _statuses(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {theirs: ours for theirs, ours in value.items() if ours not in STATUSES}
        if bad:
            raise ValueError(f"status_map values must be among {sorted(STATUSES)}: {bad}")
        return value

    def request_field(self, name: str) -> str:
        return self.request_fields.get(name, DEFAULT_REQUEST_FIELDS[name])

    def event_field(self, name: str) -> str:
        if name == "reference" and name not in self.event_fields:
            return self.request_field("reference")  # echoed where we sent it
        return self.event_fields.get(name, DEFAULT_EVENT_FIELDS[name])

    def status(self, theirs: Any) -> str | None:
        text = str(theirs or "").strip().lower()
        return {**DEFAULT_STATUS_MAP, **{k.lower(): v for k, v in self.status_map.items()}}.get(text)


CONFIGS: dict[str, type[BaseModel]] = {
    "simulator": SimulatorConfig,
    "twilio": TwilioConfig,
    "http": HttpAgentConfig,
}
ProviderName = Literal["simulator", "twilio", "http"]


def parse_config(provider: str, config: JsonObject | None) -> Any:
    return CONFIGS[provider].model_validate(config or {})


# Twilio's CallStatus values (status callbacks) -> ours.
TWILIO_STATUS: dict[str, str] = {
    "queued": "initiated",
    "initiated": "initiated",
    "ringing": "ringing",
    "in-progress": "in-progress",
    "answered": "in-progress",
    "completed": "completed",
    "busy": "busy",
    "no-answer": "no-answer",
    "failed": "failed",
    "canceled": "canceled",
}


def twilio_voicemail(answered_by: str | None) -> bool:
    """AnsweredBy from answering-machine detection: machine_start, machine_end_beep, fax... mean no human."""
    return bool(answered_by) and (answered_by or "").startswith(("machine", "fax"))


def dig(data: Any, path: str) -> Any:
    """A value at a dotted path in nested dicts, or None."""
    for part in path.split(".") if path else []:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def put(data: JsonObject, path: str, value: Any) -> None:
    """Set a value at a dotted path, creating the nested dicts on the way."""
    parts = path.split(".")
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value
