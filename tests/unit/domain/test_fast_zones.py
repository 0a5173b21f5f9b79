"""fast_time_zones gives phonenumbers' own time zones for every valid number, much faster."""

from __future__ import annotations

import random

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers import timezone as phone_timezone

from chalicelib.domain.fast_zones import fast_region, fast_time_zones

TYPES = [getattr(PhoneNumberType, name) for name in dir(PhoneNumberType) if name.isupper()]


def _valid_numbers(seed: int, variants: int, north_american: int) -> list[str]:
    """Every region's example number of every type, variants of each (last digits changed), random +1 numbers:
    those that are valid, in E.164."""
    rng = random.Random(seed)
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            base = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            numbers.append(base)
            for _ in range(variants):
                k = rng.randint(1, min(6, len(base) - 4))
                numbers.append(base[:-k] + "".join(rng.choice("0123456789") for _ in range(k)))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            numbers.append(phonenumbers.format_number(example, PhoneNumberFormat.E164))
    numbers += [f"+1{rng.randint(2_000_000_000, 9_999_999_999)}" for _ in range(north_american)]
    valid = []
    for number in numbers:
        parsed = phonenumbers.parse(number, None)
        if (
            phonenumbers.is_valid_number(parsed)
            and phonenumbers.format_number(parsed, PhoneNumberFormat.E164) == number
        ):
            valid.append(number)
    return valid


def _library(number: str) -> tuple[str, ...]:
    return tuple(phone_timezone.time_zones_for_number(phonenumbers.parse(number, None)))


def test_it_answers_as_phonenumbers_for_every_kind_of_valid_number() -> None:
    # Given valid numbers of every region and type (fixed line, mobile, toll free, ...) and many +1 area codes
    numbers = _valid_numbers(seed=16, variants=8, north_american=3000)
    assert len(numbers) > 10_000
    # Then each gets exactly phonenumbers' zones (a multi-zone country's number: its own area's, or the country's)
    wrong = {n: (fast_time_zones(n), _library(n)) for n in numbers if fast_time_zones(n) != _library(n)}
    assert not wrong, list(wrong.items())[:5]
    # And each its region as phonenumbers gives it (a holiday calendar's country: +1 is US, CA, or a Caribbean one)
    regions = {n: phonenumbers.region_code_for_number(phonenumbers.parse(n, None)) for n in numbers}
    assert {n: fast_region(n) for n in numbers} == regions


def test_a_number_not_in_plain_e164_takes_the_full_parse_or_is_left_to_the_library() -> None:
    # Given a number written with a national prefix after its country code, and with separators
    for written in ("+44 020 7946 0001", "+4402079460001", "+1 (212) 555-0123", "+39 06 1234 5678"):
        # Then the answer is still phonenumbers' (or None: the caller asks phonenumbers)
        answer = fast_time_zones(written)
        assert answer is None or answer == _library(written), written
