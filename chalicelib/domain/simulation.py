"""The simulated phone network's behaviour: a seeded, realistic outcome for each call.

Pure: the same seed and call give the same outcome, so demos repeat and tests can
assert on the mix. The simulator provider turns an outcome into timed provider events.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from .call_status import CallStatus
from .extraction import ExtractionField

# Shares seen in outbound campaigns: most calls connect, a fifth ring out, a few are busy or fail.
OUTCOME_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("completed", 0.60),
    ("voicemail", 0.08),
    ("no-answer", 0.20),
    ("busy", 0.08),
    ("failed", 0.04),
)
USER_LINES = (
    "Yes, this is a good time.",
    "Can you tell me more about that?",
    "I'm busy right now, call me later.",
    "Sure, go ahead.",
    "Thanks, that's all I needed.",
)


@dataclass(frozen=True)
class SimulatedCall:
    status: str
    answered_by_voice_mail: bool
    ring_seconds: float  # from dial to answer (or to giving up)
    talk_seconds: float  # conversation length; 0 when nobody answered
    hangup_reason: str
    total_cost: float
    transcript: str | None

    @property
    def conversation_duration(self) -> float:
        return round(self.talk_seconds, 1)


def simulate(
    seed: int, call_key: str, welcome: str, cost_per_minute: float = 0.05, fixed_talk_seconds: float | None = None
) -> SimulatedCall:
    """`fixed_talk_seconds` makes every call answered at once and that long (for load tests and demos)."""
    if fixed_talk_seconds is not None:
        return _call(
            CallStatus.COMPLETED,
            False,
            0.0,
            fixed_talk_seconds,
            "call ended by user",
            cost_per_minute,
            f"assistant: {welcome}",
        )
    rng = random.Random(int.from_bytes(hashlib.sha256(f"{seed}:{call_key}".encode()).digest()[:8], "big"))
    kind = rng.choices([k for k, _ in OUTCOME_WEIGHTS], weights=[w for _, w in OUTCOME_WEIGHTS])[0]
    if kind == "completed":
        ring, talk = rng.uniform(3, 15), min(600.0, max(8.0, rng.lognormvariate(3.9, 0.6)))
        turns = [f"assistant: {welcome}"] + [
            f"{'user' if i % 2 == 0 else 'assistant'}: {rng.choice(USER_LINES) if i % 2 == 0 else 'I understand.'}"
            for i in range(rng.randint(2, 6))
        ]
        return _call(CallStatus.COMPLETED, False, ring, talk, "call ended by user", cost_per_minute, "\n".join(turns))
    if kind == "voicemail":
        ring, talk = rng.uniform(15, 30), rng.uniform(15, 35)
        return _call(
            CallStatus.COMPLETED, True, ring, talk, "voicemail detected", cost_per_minute, f"assistant: {welcome}"
        )
    if kind == "no-answer":
        return _call(CallStatus.NO_ANSWER, False, rng.uniform(25, 40), 0.0, "no answer", cost_per_minute, None)
    if kind == "busy":
        return _call(CallStatus.BUSY, False, rng.uniform(1, 4), 0.0, "line busy", cost_per_minute, None)
    return _call(CallStatus.FAILED, False, rng.uniform(0.5, 3), 0.0, "carrier rejected the call", cost_per_minute, None)


def _call(
    status: CallStatus, voicemail: bool, ring: float, talk: float, reason: str, rate: float, transcript: str | None
) -> SimulatedCall:
    cost = round((talk / 60.0) * rate, 4) if talk else 0.0
    return SimulatedCall(status.value, voicemail, round(ring, 1), round(talk, 1), reason, cost, transcript)


TEXT_ANSWERS = ("call me after 5 pm", "prefers email", "asked about pricing", "no further questions")
SUMMARIES = (
    "The contact listened to the offer and answered the questions.",
    "The contact was interested and asked for details.",
    "The contact was busy and kept the call short.",
)


def simulate_answers(
    seed: int, call_key: str, schema: list[ExtractionField]
) -> tuple[dict[str, object] | None, str | None]:
    """What a voice agent would report after an answered call: a plausible value for every declared field and a
    summary. Reproducible from the seed, and drawn from its own stream so the outcome mix above is unchanged."""
    rng = random.Random(int.from_bytes(hashlib.sha256(f"{seed}:{call_key}:answers".encode()).digest()[:8], "big"))
    answers: dict[str, object] = {}
    for field in schema:
        if field.type == "category":
            choices = field.values or []
            # earlier values a little likelier, as real answers are rarely uniform
            answers[field.name] = rng.choices(choices, weights=[len(choices) - i for i in range(len(choices))])[0]
        elif field.type == "boolean":
            answers[field.name] = rng.random() < 0.4
        elif field.type == "number":
            answers[field.name] = rng.randint(1, 100)
        else:
            answers[field.name] = rng.choice(TEXT_ANSWERS)
    return (answers or None), rng.choice(SUMMARIES)
