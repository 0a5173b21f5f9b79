"""Suppression entries: numbers from a URL, expiries, and what a request may set (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chalicelib.domain.numbers import InvalidNumber
from chalicelib.domain.suppressions import Suppression, SuppressionRequest, number_in_path, parse_expiry

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["+12025550101", "%2B12025550101", " 12025550101", "12025550101"])
def test_a_number_in_a_path_is_e164_however_the_plus_arrived(raw: str) -> None:
    assert number_in_path(raw) == "+12025550101"


@pytest.mark.parametrize("raw", ["hello", "", "+1", "2025550101x"])
def test_anything_else_in_a_path_is_refused(raw: str) -> None:
    with pytest.raises(InvalidNumber):
        number_in_path(raw)


def test_an_expiry_must_have_an_offset_and_be_ahead() -> None:
    assert parse_expiry("2026-12-01T00:00:00Z", NOW) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_expiry(None, NOW) is None
    for bad in ("2026-12-01T00:00:00", "2026-11-01T00:00:00Z", "tomorrow", "9999-12-31T23:59:59-05:00"):
        with pytest.raises(ValueError):
            parse_expiry(bad, NOW)


def test_an_expired_entry_is_not_active() -> None:
    entry = Suppression(
        number="+1", source="api", created_at="2026-01-01T00:00:00.000Z", expires_at="2026-06-01T00:00:00.000Z"
    )
    assert not entry.active("2026-06-01T00:00:00.001Z") and entry.active("2026-05-31T23:59:59.999Z")


def test_a_request_cannot_claim_to_be_a_csv_or_an_opt_out() -> None:
    with pytest.raises(ValidationError):
        SuppressionRequest.model_validate({"number": "+12025550101", "source": "call_opt_out"})
    assert SuppressionRequest.model_validate({"number": "+1", "source": "provider"}).source == "provider"
