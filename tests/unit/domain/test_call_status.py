"""Call statuses only move forward."""

from __future__ import annotations

import pytest

from chalicelib.domain.call_status import FINAL, CallStatus, is_final, rank, statuses_before


def test_progress_order() -> None:
    order = ["queued", "initiated", "ringing", "in-progress", "completed"]
    assert [rank(s) for s in order] == sorted(rank(s) for s in order)
    assert len({rank(s) for s in order}) == len(order)


@pytest.mark.parametrize("final", sorted(FINAL))
def test_nothing_follows_a_final_status(final: CallStatus) -> None:
    assert is_final(final)
    assert all(rank(other) <= rank(final) for other in CallStatus)
    assert final.value not in statuses_before(final.value)


def test_ringing_may_follow_initiated_but_not_in_progress() -> None:
    assert "initiated" in statuses_before("ringing")
    assert "in-progress" not in statuses_before("ringing")


def test_unknown_status_is_rejected() -> None:
    with pytest.raises(ValueError):
        rank("hung-up")
