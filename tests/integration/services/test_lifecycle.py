"""Scheduling with `bypass_call_guardrails` is one use case: the flag is written with the schedule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import clock
from chalicelib.services.container import Dependencies
from chalicelib.services.lifecycle import schedule_batch
from tests.support.batches import make_batch


def test_schedule_with_bypass_sets_the_flag_in_the_same_write(
    deps: Dependencies, client: Client, tenant: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a created batch, and a record of every later write to the batch
    batch_id, _ = make_batch(client, tenant, 2)
    writes: list[str] = []
    for name in ("transition", "set_fields"):
        original = getattr(deps.batches, name)

        def record(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            writes.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(deps.batches, name, record)
    # When it is scheduled with the bypass, without the API
    batch = schedule_batch(deps, "tenant-a", batch_id, clock.iso(clock.now() + timedelta(hours=1)), bypass=True)
    # Then the one transition wrote the flag with the schedule
    assert writes == ["transition"]
    assert batch.bypass_call_guardrails is True
    assert deps.batches.get("tenant-a", batch_id).bypass_call_guardrails is True
