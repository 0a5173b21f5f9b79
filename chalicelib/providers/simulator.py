"""The simulated phone network: reports each call's progress as delayed events, like a real provider would."""

from __future__ import annotations

import hashlib
from typing import Any

from ..adapters.queues import Queues
from ..domain.extraction import parse_schema
from ..domain.messages import ProviderEvent
from ..domain.records import Agent, Execution
from ..domain.simulation import simulate, simulate_answers
from ..resources import PROVIDER_EVENTS_QUEUE
from .base import Callback, CallRequest, ForgedCallback, ReadCallback

POST_DIAL_DELAY = 1.0  # seconds from placing a simulated call to its first ring


class SimulatorProvider:
    name = "simulator"

    def __init__(self, queues: Queues, seed: int, speed: float) -> None:
        self._queues = queues
        self._seed = seed
        self._speed = speed

    def _after(self, seconds: float) -> int:
        return 0 if self._speed <= 0 else round(seconds / self._speed)

    def place_call(self, request: CallRequest, agent: Agent) -> str:
        call_id = "sim-" + hashlib.sha256(request.execution_id.encode()).hexdigest()[:24]
        config = agent.provider_config or {}
        fixed = config.get("fixed_talk_seconds")
        outcome = simulate(
            self._seed,
            request.execution_id,
            request.welcome_message,
            float(config.get("cost_per_minute", 0.05)),
            float(fixed) if fixed is not None else None,
        )

        def event(status: str, **details: Any) -> ProviderEvent:
            return ProviderEvent.of(request.execution_id, self.name, call_id, status, **details)

        answered = outcome.talk_seconds > 0 and not outcome.answered_by_voice_mail
        extracted, summary = (
            simulate_answers(self._seed, request.execution_id, parse_schema(agent.extraction_schema))
            if answered
            else (None, None)
        )
        events: list[tuple[ProviderEvent, int]] = [(event("ringing"), self._after(POST_DIAL_DELAY))]
        if outcome.talk_seconds > 0:
            events.append((event("in-progress"), self._after(outcome.ring_seconds)))
        events.append(
            (
                event(
                    outcome.status,
                    conversation_duration=outcome.conversation_duration,
                    total_cost=outcome.total_cost,
                    transcript=outcome.transcript,
                    answered_by_voice_mail=outcome.answered_by_voice_mail,
                    hangup_reason=outcome.hangup_reason,
                    hangup_by="Callee" if answered else None,
                    ring_duration=outcome.ring_seconds,
                    post_dial_delay=POST_DIAL_DELAY,
                    extracted_data=extracted,
                    summary=summary,
                ),
                self._after(outcome.ring_seconds + outcome.talk_seconds),
            )
        )
        self._queues.send_many(PROVIDER_EVENTS_QUEUE, events)
        return call_id

    def idempotent(self, agent: Agent) -> bool:
        return True  # the call id and every event are derived from the execution id

    def read_callback(self, callback: Callback, execution: Execution, agent: Agent) -> ReadCallback:
        raise ForgedCallback("the simulator reports through the provider-events queue, never over HTTP")
