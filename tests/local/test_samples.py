"""samples/contacts.csv, used by the curl the stack prints, has what a demo should show."""

from __future__ import annotations

import csv

import phonenumbers

from local.stack import PROJECT_ROOT


def test_sample_contacts_cover_countries_an_invalid_number_and_a_duplicate() -> None:
    with (PROJECT_ROOT / "samples" / "contacts.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert set(rows[0]) == {"contact_number", "customer_name", "plan"}

    numbers = [phonenumbers.parse(row["contact_number"]) for row in rows]
    valid = [n for n in numbers if phonenumbers.is_valid_number(n)]
    e164 = [phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) for n in valid]
    assert len(numbers) - len(valid) == 1
    assert len(e164) - len(set(e164)) == 1
    assert {phonenumbers.region_code_for_number(n) for n in valid} == {"US", "IN", "GB"}
