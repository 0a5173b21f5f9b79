"""Dial-queue consumer: each message is one call to place (`services/dialing.py`)."""

from __future__ import annotations

from collections.abc import Callable

from ..domain.messages import DialMessage
from ..domain.timeline import Component, acting_as
from ..services.container import Dependencies
from ..services.dialing import place_one_call


def handle_dial(deps: Dependencies, message: DialMessage, remaining_ms: Callable[[], int] | None = None) -> None:
    """`remaining_ms`: the invocation's time left (a call that might outlast it is handed back)."""
    with acting_as(Component.DIALER):
        place_one_call(deps, message, remaining_ms)
