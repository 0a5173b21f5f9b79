"""Events-queue consumer: each message is a provider's report on a call (`services/provider_events.py`)."""

from __future__ import annotations

from ..domain.messages import ProviderEvent
from ..domain.timeline import Component, acting_as
from ..services.container import Services
from ..services.provider_events import apply_provider_event


def handle_event(svc: Services, event: ProviderEvent) -> None:
    with acting_as(Component.PROVIDER_EVENT):
        apply_provider_event(svc, event)
