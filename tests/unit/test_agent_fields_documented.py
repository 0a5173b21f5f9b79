"""Every agent field (and every provider_config and retry_config field) has a row in docs/agents.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from chalicelib.domain.agents import AgentCreate
from chalicelib.domain.provider_config import CONFIGS
from chalicelib.domain.retry import RetryConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"


def rows() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(encoding="utf-8"), re.MULTILINE))


@pytest.mark.parametrize("model", [AgentCreate, RetryConfig, *CONFIGS.values()], ids=lambda m: m.__name__)
def test_every_field_has_a_row(model: type[BaseModel]) -> None:
    assert set(model.model_fields) - rows() == set()


def test_the_calling_hours_defaults_are_the_documented_ones() -> None:
    # A new agent calls 09-21 in the recipient's time; the page says so (the demo agent's 0-24 too)
    agent = AgentCreate(name="x")
    text = DOC.read_text(encoding="utf-8")
    assert (agent.call_start_hour, agent.call_end_hour) == (9, 21)
    assert "09:00 to 21:00 in the recipient's local time" in text and "`call_end_hour: 24`" in text
