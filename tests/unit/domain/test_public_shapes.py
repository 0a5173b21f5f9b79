"""The wire shapes' TypedDicts (PublicBatch, PublicExecution) name exactly the keys answered, in their order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_type_hints

from chalicelib.domain.batch_status import BatchStatus
from chalicelib.domain.batches import PublicBatch, PublicExecution, public_batch, public_execution
from chalicelib.domain.call_status import CallStatus
from chalicelib.domain.records import Batch, Execution


def test_a_batch_answers_exactly_the_keys_its_type_names() -> None:
    # Given a minimal batch; When shown; Then its keys are the TypedDict's, in the same order
    batch = Batch(
        batch_id="b", tenant_id="t", agent_id="a", status=BatchStatus.CREATED, created_at="2026-11-30T10:00:00Z"
    )
    shown = public_batch(batch, datetime(2026, 11, 30, tzinfo=UTC))
    assert list(shown) == list(get_type_hints(PublicBatch))


def test_an_execution_answers_exactly_the_keys_its_type_names() -> None:
    # Given a minimal execution; When shown; Then its keys are the TypedDict's, in the same order
    execution = Execution(execution_id="e", batch_id="b", tenant_id="t", agent_id="a", status=CallStatus.QUEUED)
    assert list(public_execution(execution)) == list(get_type_hints(PublicExecution))
