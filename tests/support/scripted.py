"""A phone provider whose outcomes a test scripts; its events travel the real path (the provider-events queue)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from chalicelib.domain.messages import ProviderEvent
from chalicelib.domain.records import Agent
from chalicelib.providers.base import CallRequest
from chalicelib.resources import PROVIDER_EVENTS_QUEUE
from chalicelib.services.container import Dependencies


class ScriptedProvider:
    """Answers each attempt with a scripted status (default completed); events go through the real path."""

    name = "simulator"

    def idempotent(self, agent: Agent) -> bool:
        return False  # it counts dials: a re-placed call would be a second dial

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self.script: dict[tuple[int, int], str] = {}  # (contact index, attempt) -> status
        self.report = True
        self.dials: list[tuple[str, int, datetime]] = []
        self.lock = threading.Lock()

    def place_call(self, request: CallRequest, agent: Agent) -> str:
        index = int(request.variables["customer_name"].removeprefix("Name"))
        with self.lock:
            self.dials.append((request.to_number, request.attempt, datetime.now(UTC)))
        if self.report:
            status = self.script.get((index, request.attempt), "completed")
            self.deps.queues.send(
                PROVIDER_EVENTS_QUEUE,
                ProviderEvent.of(request.execution_id, "simulator", f"c-{request.execution_id}", status),
            )
        return f"c-{request.execution_id}"
