"""What the dialer needs from a phone provider, and the event shape every provider reports in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class CallRequest:
    execution_id: str
    batch_id: str
    to_number: str
    from_number: str | None
    welcome_message: str
    variables: dict[str, str] = field(default_factory=dict)
    attempt: int = 1


class Provider(Protocol):
    name: str

    def place_call(self, request: CallRequest, agent: dict[str, Any]) -> str:
        """Place the call and return the provider's call id. Must not be called twice for one execution."""
        ...


def provider_event(
    execution_id: str, provider: str, provider_call_id: str, status: str, **details: Any
) -> dict[str, Any]:
    """The normalized message a provider's status callback becomes on the events queue."""
    return {
        "execution_id": execution_id,
        "provider": provider,
        "provider_call_id": provider_call_id,
        "status": status,
        "details": {k: v for k, v in details.items() if v is not None},
    }
