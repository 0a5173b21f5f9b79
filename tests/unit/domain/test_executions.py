"""The execution record: deterministic ids (a redelivered step writes nothing twice), one shape for every attempt."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.batch_status import BatchStatus
from chalicelib.domain.executions import execution_id, new_execution
from chalicelib.domain.records import Batch

BATCH = Batch(batch_id="b1", tenant_id="t1", agent_id="a1", status=BatchStatus.RUNNING)


def test_execution_ids_are_deterministic_per_contact_and_attempt() -> None:
    assert execution_id("b1", 7, 1) == execution_id("b1", 7, 1)
    assert len({execution_id("b1", 7, 1), execution_id("b1", 7, 2), execution_id("b1", 8, 1)}) == 3


def test_a_retry_is_the_next_attempt_of_the_same_contact_queued_and_ordered_after_the_first() -> None:
    # Given the first and second attempts of contact 7
    fields: dict[str, Any] = {
        "row": 9,
        "user_number": "+14155550123",
        "from_number": None,
        "recipient_data": {"name": "Ada"},
    }
    first = new_execution(BATCH, contact_index=7, attempt=1, now="2026-03-02T09:00:00.000Z", **fields)
    second = new_execution(BATCH, contact_index=7, attempt=2, now="2026-03-02T09:05:00.000Z", **fields)
    # Then both are queued, counted as retries from the second on, and sort in attempt order
    assert first.status == second.status == "queued"
    assert (first.retry_count, second.retry_count) == (0, 1)
    assert first.seq == "000000007#01" < second.seq == "000000007#02"
    assert second.execution_id == execution_id("b1", 7, 2)
    assert second.tenant_id == "t1" and second.agent_id == "a1" and second.row == 9
