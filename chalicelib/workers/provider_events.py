"""Events-queue consumer: each message is a provider's report on a call (`services/provider_events.py`)."""

from __future__ import annotations

from ..domain.messages import ProviderEvent
from ..domain.timeline import Component, acting_as
from ..services.container import Dependencies
from ..services.provider_events import apply_provider_event


def handle_event(deps: Dependencies, event: ProviderEvent) -> None:
    with acting_as(Component.PROVIDER_EVENT):
        apply_provider_event(deps, event)
