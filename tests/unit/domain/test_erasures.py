"""An erasure request names one number, normalised exactly as a batch contact's; its public shape never shows it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.erasures import Erasure, ErasureRequest, public_erasure
from chalicelib.domain.executions import number_key


@pytest.mark.parametrize(
    ("written", "region"),
    [("+14155552671", None), ("+1 (415) 555-2671", None), ("415 555 2671", "US"), ("4155552671", "us")],
)
def test_a_number_is_normalised_as_batch_contacts_are(written: str, region: str | None) -> None:
    assert ErasureRequest(phone_number=written, default_region=region).phone_number == "+14155552671"


@pytest.mark.parametrize(
    "body",
    [
        {"phone_number": "12345"},
        {"phone_number": "415 555 2671"},  # no + and no region
        {"phone_number": "+14155552671", "default_region": "XX"},
        {"phone_number": "+14155552671", "suppress": "true"},  # a JSON boolean only
        {"phone_number": "+14155552671", "extra": 1},
        {"phone_number": ""},
    ],
)
def test_what_is_not_one_number_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ErasureRequest.model_validate(body)


def test_the_index_key_is_per_tenant_and_names_no_number() -> None:
    key = number_key("tenant-a", "+14155552671")
    assert key != number_key("tenant-b", "+14155552671") and "4155552671" not in key


def test_the_public_shape_shows_the_number_masked_only() -> None:
    shown = public_erasure(
        Erasure(tenant_id="t", erasure_id="e", number_masked="+1******2671", number_key="k", requested_at="2026")
    )
    assert shown["phone_number"] == "+1******2671" and "number_key" not in shown
