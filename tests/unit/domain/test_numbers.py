"""Number rules: the cells people and spreadsheets write -> E.164, invalid-number messages, regions, masking."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.contact_reader import (
    ContactReader,
    read_records,
)
from chalicelib.domain.contacts_error import ContactsError
from chalicelib.domain.numbers import InvalidNumber, mask_number, normalize_number
from tests.support.contacts import PROPERTY, contacts, errors, read

# --------------------------------------------------------------------------- the default region


@pytest.mark.parametrize("region", ["xx", "USA", "U", "001", 91])
def test_invalid_region_fails_at_construction(region: object) -> None:
    # Given a default_region that is not a 2-letter region phonenumbers knows
    # When a reader is built
    # Then it fails at once with invalid_region, for both CSV and JSON
    with pytest.raises(ContactsError) as caught:
        ContactReader([b"phone\n1\n"], region)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_region"
    with pytest.raises(ContactsError):
        read_records([], region)  # type: ignore[arg-type]


@pytest.mark.parametrize("region", [None, "", "in", " IN "])
def test_region_is_case_insensitive_and_empty_means_none(region: str | None) -> None:
    # Given a lower-case/padded region, or none at all
    items, _ = read(b"phone\n+91 98765 43210\n", region)
    # Then +-written numbers validate either way
    assert contacts(items)[0].number == "+919876543210"


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("cell", "region"),
    [
        ("'+91 98765 43210", None),  # Excel's keep-as-text apostrophe
        ("  +91 98765 43210  ", None),
        ("+91.98765.43210", None),
        ("+91-98765-43210", None),
        ("+91 (98765) 43210", None),
        ("0091 98765 43210", None),  # 00 international prefix with no region
        ("0091 98765 43210", "IN"),
        ("+91\xa098765\xa043210", None),  # non-breaking spaces
        ("98765 43210", "IN"),
        ("098765 43210", "IN"),
        ("919876543210.0", "IN"),  # Excel's float rendering
        ('="+919876543210"', None),  # the ="..." formula trick
    ],
)
def test_number_cell_tolerance(cell: str, region: str | None) -> None:
    # Given a number written the ways spreadsheets and people write it
    # When it is normalized, alone and inside a CSV
    # Then it is the E.164 number
    assert normalize_number(cell, region) == "+919876543210"
    items, _ = read(f'phone\n"{cell.replace(chr(34), chr(34) * 2)}"\n'.encode(), region)
    assert contacts(items)[0].number == "+919876543210"


@pytest.mark.parametrize("cell", ["9.19876543210E+11", "9,19877E+11", "4.15555E+09"])
def test_scientific_notation_is_invalid_with_an_explanation(cell: str) -> None:
    # Given a number Excel turned into scientific notation (digits already lost)
    items, _ = read(f'phone,n\n"{cell}",x\n+14155552671,y\n'.encode(), "IN")
    # Then it is invalid_number, telling the user what happened
    error = errors(items)[0]
    assert (error.reason, error.value) == ("invalid_number", cell)
    assert "formula/number format" in error.message


def test_number_without_country_code_needs_a_region() -> None:
    items, _ = read(b"phone\n98765 43210\n+14155552671\n")
    error = errors(items)[0]
    assert (error.row, error.reason) == (2, "invalid_number")
    assert error.message == "number written without +country code and no default_region given"


def test_invalid_number_message_names_the_region() -> None:
    items, _ = read(b"phone\n12345\n+44 20 1234\n+14155552671\n", "IN")
    assert [e.message for e in errors(items)] == [
        "not a valid number for region IN",
        "not a valid number for region GB",
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("abc", "not a phone number"),
        ("+999 1234567", "country calling code"),
        ("+1 " + "5" * 30, "too long"),
    ],
)
def test_normalize_number_raises_invalid_number(raw: str, message: str) -> None:
    with pytest.raises(InvalidNumber, match=message) as caught:
        normalize_number(raw, None)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+919876543210", "+91******3210"),
        ("+14155552671", "+1******2671"),
        ("+442079460958", "+44******0958"),
        ("+3531234", "+353****"),
        ("5551234567", "******4567"),
    ],
)
def test_mask_number_keeps_country_code_and_last_four(e164: str, masked: str) -> None:
    assert mask_number(e164) == masked


# --------------------------------------------------------------------------- properties


@PROPERTY
@given(raw=st.text(max_size=40), region=st.sampled_from([None, "US", "IN", "GB", "xx"]))
def test_property_normalize_number_returns_e164_or_invalid_number(raw: str, region: str | None) -> None:
    try:
        number = normalize_number(raw, region)
    except InvalidNumber:
        return
    assert number == phonenumbers.format_number(phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.E164)
