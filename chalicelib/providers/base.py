"""What the dialer and the callback route need from a phone provider, and the event shape all report in.

A provider places a call (`place_call`) and, for providers that call us back, verifies and
reads one status callback (`read_callback`). Every call is tagged with our execution id (in
the callback URL, and in the request where the provider keeps metadata), so an event finds its
execution even when the provider's call id was never recorded. A callback only ever changes the
call it was issued for: its signature covers the URL (Twilio), or its signed body names the call
(our execution id, or the provider's call id we recorded) and its id is never accepted twice from
the same signer (HTTP voice agents).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol
from urllib.parse import parse_qsl

from ..domain.messages import ProviderEvent
from ..domain.records import Agent, Execution


@dataclass(frozen=True)
class CallRequest:
    execution_id: str
    batch_id: str
    to_number: str
    from_number: str | None
    welcome_message: str
    tenant_id: str = ""
    agent_id: str = ""
    prompt: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    attempt: int = 1
    callback_url: str = ""


class Failure(StrEnum):
    REJECTED = "rejected"  # the provider refused this call (4xx): the call is `failed`
    TRANSIENT = "transient"  # 5xx, timeout, connection: try again with backoff, then `error`
    RATE_LIMITED = "rate_limited"  # too many calls: slow the agent down, never fail the call
    # The request was sent but no answer came (a read timeout, a connection lost mid-answer): the provider may
    # have placed the call. Placed again only where the provider dedupes (`idempotent`); else never blindly.
    UNKNOWN = "unknown"


class ProviderError(Exception):
    def __init__(self, kind: Failure, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message[:500]
        self.retry_after = retry_after


@dataclass(frozen=True)
class Callback:
    """A status callback as received: the public URL it was sent to, headers (lower-case), raw body."""

    url: str
    headers: Mapping[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


class ForgedCallback(Exception):
    """Not signed by the provider with this tenant's credentials, tampered with, or for another call: 403."""


@dataclass(frozen=True)
class ReadCallback:
    replay_key: str  # the same for a replay of the same callback, different for every genuine one
    events: list[ProviderEvent]
    # "": the signature covers the URL, so the replay key is remembered on the execution. Otherwise the
    # signing account (`<tenant>#<provider>#<credentials>`): the key is refused on every call it signs.
    signer: str = ""


class Provider(Protocol):
    name: str

    def place_call(self, request: CallRequest, agent: Agent) -> str:
        """Place the call and return the provider's call id; raise ProviderError when it was not placed."""
        ...

    def idempotent(self, agent: Agent) -> bool:
        """Placing the same execution twice makes one call (an idempotency key the provider honours):
        then a call claimed by a dialer that died before recording it can safely be placed again."""
        ...

    def read_callback(self, callback: Callback, execution: Execution, agent: Agent) -> ReadCallback:
        """Verify a status callback for `execution` (the one its URL names) and read it.

        ForgedCallback when it is not genuine, or not for this execution's call.
        """
        ...
