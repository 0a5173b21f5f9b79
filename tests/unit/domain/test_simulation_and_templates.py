"""The simulated network is seeded and realistic; templates never fail on user text."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.simulation import OUTCOME_WEIGHTS, simulate
from chalicelib.domain.templates import fill


def test_same_seed_same_call_same_outcome() -> None:
    assert simulate(7, "abc", "hi") == simulate(7, "abc", "hi")
    assert any(simulate(7, f"c{i}", "hi") != simulate(8, f"c{i}", "hi") for i in range(20))


def test_outcome_mix_and_lengths_are_realistic() -> None:
    calls = [simulate(7, f"call-{i}", "Hello Asha") for i in range(4000)]
    shares = Counter("voicemail" if c.answered_by_voice_mail else c.status for c in calls)
    for kind, weight in OUTCOME_WEIGHTS:
        assert abs(shares[kind] / len(calls) - weight) < 0.03, (kind, shares)
    completed = [c for c in calls if c.status == "completed" and not c.answered_by_voice_mail]
    mean = sum(c.talk_seconds for c in completed) / len(completed)
    assert 30 < mean < 120
    assert all(8 <= c.talk_seconds <= 600 and c.total_cost > 0 for c in completed)
    assert all(c.talk_seconds == 0 and c.total_cost == 0 for c in calls if c.status != "completed")
    assert all(c.transcript and c.transcript.startswith("assistant: Hello Asha") for c in completed)


def test_fill_uses_contact_columns_and_keeps_unknown_placeholders() -> None:
    assert fill("Hi {customer_name}, {plan}!", {"customer_name": "Asha", "plan": "gold"}) == "Hi Asha, gold!"
    assert fill("Hi {who}", {}) == "Hi {who}"
    assert fill("odd { brace", {"x": "y"}) == "odd { brace"


@given(st.text(), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3))
def test_fill_never_raises(template: str, values: dict[str, str]) -> None:
    assert isinstance(fill(template, values), str)
