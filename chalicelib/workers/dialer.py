"""Dial-queue consumer: each message is one call to place (`services/dialing.py`)."""

from __future__ import annotations

from collections.abc import Callable

from ..domain.messages import DialMessage
from ..domain.timeline import Component, acting_as
from ..services.container import Services
from ..services.dialing import place_one_call


def handle_dial(svc: Services, message: DialMessage, remaining_ms: Callable[[], int] | None = None) -> None:
    """`remaining_ms`: the invocation's time left (a call that might outlast it is handed back)."""
    with acting_as(Component.DIALER):
        place_one_call(svc, message, remaining_ms)
