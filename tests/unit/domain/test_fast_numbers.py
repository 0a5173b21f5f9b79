"""The fast number path gives phonenumbers' own answer: valid or not, and the same E.164, for every number.

The numbers: every region's example number of every type (and the non-geographic entities'), written
in E.164, international and national form, with random digit edits (one changed, dropped or added
digit, so most are near-valid and many are invalid), random digit strings after each country code,
random national digits, and valid numbers' digits with separators and stray characters anywhere; each
read with a default region drawn from all regions and None. NUMBERS_EQUALITY_COUNT sets how many
(default 200,000, about 30 s, run by `make test`; NUMBERS_EQUALITY_COUNT=1000000 for the full million).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import phonenumbers
import pytest
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from chalicelib.domain.fast_numbers import fast_e164
from chalicelib.domain.numbers import InvalidNumber, _unwrapped, parse_number

COUNT = int(os.environ.get("NUMBERS_EQUALITY_COUNT", "200000"))
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
DEFAULT_REGIONS: list[str | None] = [*REGIONS, None, "US", "IN", "GB", "DE", "BR"]
FORMATS = (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL)


def _examples() -> list[tuple[str, str]]:
    """(written number, its own region) for every example number phonenumbers has."""
    out: list[tuple[str, str]] = []
    for region in REGIONS:
        for kind in range(PhoneNumberType.FIXED_LINE, PhoneNumberType.UNKNOWN):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                out.extend((phonenumbers.format_number(number, f), region) for f in FORMATS)
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            out.append((phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL), "001"))
    return out


def _mutate(text: str, rng: random.Random) -> str:
    """One digit changed, dropped or added (not the country code's when written with +)."""
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    if text.startswith("+"):
        positions = positions[3:] or positions
    i = rng.choice(positions)
    edit = rng.randrange(3)
    if edit == 0:
        return text[:i] + str(rng.randrange(10)) + text[i + 1 :]
    if edit == 1:
        return text[:i] + text[i + 1 :]
    return text[:i] + str(rng.randrange(10)) + text[i:]


def _cases(count: int, seed: int = 20261130) -> Iterator[tuple[str, str | None]]:
    rng = random.Random(seed)
    examples = _examples()
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    for n in range(count):
        pick = n % 5
        if pick == 0:  # an example number as written, read from its own region or another
            text, home = rng.choice(examples)
            yield text, rng.choice((home if home != "001" else None, rng.choice(DEFAULT_REGIONS)))
        elif pick == 1:  # an example number with a digit edited
            text, home = rng.choice(examples)
            yield _mutate(text, rng), rng.choice((home if home != "001" else None, rng.choice(DEFAULT_REGIONS)))
        elif pick == 2:  # random digits after a country code
            digits = "".join(rng.choices("0123456789", k=rng.randrange(4, 14)))
            yield f"+{rng.choice(codes)}{digits}", rng.choice(DEFAULT_REGIONS)
        elif pick == 3:  # random national digits, maybe with a trunk prefix or an international prefix
            digits = "".join(rng.choices("0123456789", k=rng.randrange(3, 13)))
            prefix = rng.choice(("", "", "0", "00", "011", "8", "+"))
            yield prefix + digits, rng.choice(DEFAULT_REGIONS)
        else:  # a valid number's digits with separators (and stray characters) anywhere
            text, home = rng.choice(examples)
            chars = [c for c in text if c.isdigit()]
            for _ in range(rng.randrange(1, 5)):
                chars.insert(rng.randrange(len(chars) + 1), rng.choice(" ().-- +x#/~,;"))
            yield (
                ("+" if text[0] == "+" and rng.random() < 0.7 else "") + "".join(chars),
                rng.choice((home if home != "001" else None, rng.choice(DEFAULT_REGIONS))),
            )


def _reference(text: str, region: str | None) -> str | None:
    """phonenumbers' own loop: parse, is_valid_number, format as E.164 (None: not a valid number)."""
    try:  # first numbers.parse_number's documented spreadsheet rules (older than the fast path)
        text = _unwrapped(text.strip(), region)
    except InvalidNumber:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164) if phonenumbers.is_valid_number(number) else None


def _ours(text: str, region: str | None) -> str | None:
    try:
        return parse_number(text, region)[0]
    except InvalidNumber:
        return None


@pytest.mark.timeout(900)  # CPU-bound: ~30 s on an idle core, >120 s on a slower 2-core box under the other tiers
def test_numbers_of_every_region_get_phonenumbers_own_answer() -> None:
    # Given numbers of every region, valid and nearly valid, and every default region
    differences = []
    valid = fast = 0
    for n, (text, region) in enumerate(_cases(COUNT)):
        # When our rule and phonenumbers' loop read each
        ours, theirs = _ours(text, region), _reference(text, region)
        # Then every answer is the same
        if ours != theirs:
            differences.append((text, region, ours, theirs))
        if theirs is not None:
            valid += 1
            if n % 10 == 0 and region is not None:  # and most valid ones took the fast path
                fast += fast_e164(text, region) == theirs
    assert differences[:20] == []
    assert valid > COUNT // 4  # the cases are not mostly junk
    assert fast > valid // 10 * 0.8


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+1 (212) 555-1234", "IN", "+12125551234"),  # NANP: the US
        ("+1 416 555 0123", None, "+14165550123"),  # NANP: Canada, by its area code
        ("+1 242 357 1234", "US", "+12423571234"),  # NANP: the Bahamas
        ("09876543210", "IN", "+919876543210"),  # national trunk prefix
        ("0044 7911 123456", "IN", "+447911123456"),  # international prefix of the default region
        ("+44 07911 123456", None, "+447911123456"),  # a trunk 0 written after the country code
        ("+39 06 1234 5678", None, "+390612345678"),  # Italian leading zero kept
        ("+7 701 234 5678", None, "+77012345678"),  # +7: Kazakhstan, not Russia
    ],
)
def test_the_fast_path_answers_plainly_written_valid_numbers(text: str, region: str | None, expected: str) -> None:
    assert fast_e164(text, region) == expected == _reference(text, region)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("+1 212 555 1234 ext. 5", "US"),  # an extension: the library's path keeps it
        ("1-800-FLOWERS", "US"),  # letters
        ("+999 123 456", "IN"),  # unknown country code: phonenumbers retries without the +
        ("12", "US"),  # too short
        ("+1 212 555 123", "US"),  # plainly written, not valid
    ],
)
def test_the_fast_path_leaves_everything_else_to_phonenumbers(text: str, region: str | None) -> None:
    assert fast_e164(text, region) is None
