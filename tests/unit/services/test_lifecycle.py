"""The sweeper's missed-start check: it must answer for any stored start, however absurd."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.batch_status import BatchStatus
from chalicelib.domain.records import Batch
from chalicelib.services.lifecycle import missed_start


def _batch(status: str, scheduled_at: str) -> Batch:
    return Batch(batch_id="b", tenant_id="t", agent_id="a", status=BatchStatus(status), scheduled_at=scheduled_at)


NOW = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("scheduled_at", "missed"),
    [
        ("2026-11-22T09:57:59.000Z", True),  # more than the 2-minute grace ago
        ("2026-11-22T09:58:30.000Z", False),  # within the grace
        ("2026-11-22T10:30:00.000Z", False),
        ("9999-12-31T23:59:59.999Z", False),  # stored before starts were bounded: no OverflowError
        ("0001-01-01T00:00:00.000Z", True),
        ("not a time", False),
    ],
)
def test_missed_start_never_raises(scheduled_at: str, missed: bool) -> None:
    assert missed_start(_batch("scheduled", scheduled_at), NOW) is missed


def test_only_a_scheduled_batch_can_miss_its_start() -> None:
    assert not missed_start(_batch("running", "2026-11-22T09:00:00.000Z"), NOW)
