"""The bodies of the service's queue messages, validated on the way in."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ControlMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: Literal["start", "dispatch", "cancel"]
    batch_id: str
    token: str | None = None
    start_at: str | None = None
    pos: int = 0
    waits: int = 0
    after: str | None = None  # "cancel": the last execution (seq) whose waiting was settled


class DialMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    execution_id: str
    batch_id: str
    tenant_id: str
    agent_id: str
    to: str
    from_number: str | None = None
    contact_index: int
    attempt: int = 1
    variables: dict[str, str] = Field(default_factory=dict)
    bypass_window: bool = False
    batch_cap: int | None = None
    not_before: str | None = None  # a retry or a rescheduled call: not to be dialled before this
    # "initiated": the call was claimed and its placement failed or was paced; place it without claiming again
    expect_status: Literal["queued", "rescheduled", "initiated"] = "queued"
    waits: int = 0  # how many times it has waited for a free live-call slot
    place_tries: int = 0  # placements the provider failed (5xx, timeout)
    throttled: int = 0  # times the provider's rate limit sent it back
    place_token: str | None = None  # with expect_status "initiated": the token this delivery must win


class ProviderEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    execution_id: str
    provider: str
    provider_call_id: str | None = None
    status: Literal[
        "initiated", "ringing", "in-progress", "completed", "no-answer", "busy", "failed", "error", "canceled"
    ]
    details: dict[str, Any] = Field(default_factory=dict)
