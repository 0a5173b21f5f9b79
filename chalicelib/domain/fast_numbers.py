"""A fast path for `numbers.valid_number` + E.164 on plainly written numbers, with phonenumbers' exact results.

phonenumbers' own loop is general: every cell goes through its RFC 3966, extension and vanity-number
handling, digits are normalised one character at a time, and `is_valid_number` tries a region's number
types one regex at a time (for +1, all of that for the US first, then up to 24 more regions). Most cells
are digits with spaces, dashes, dots or brackets, and an optional leading "+": for those this module
runs the same steps on the digits alone, calling phonenumbers' own helpers for the parts that depend on
its metadata (international and national prefixes, country codes), and decides validity with one
combined pattern per region and number length, built once from phonenumbers' metadata.

It answers only "valid, and here is its E.164"; anything else (other characters, a number phonenumbers
would reject or find invalid) returns None and the caller takes the library's own path, which gives the
error. tests/unit/domain/test_fast_numbers.py compares it with phonenumbers on a million numbers.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import phonenumbers
from phonenumbers import PhoneMetadata

__all__ = ["fast_e164"]

_util: Any = importlib.import_module("phonenumbers.phonenumberutil")  # private helpers: no type stubs
_extract_country_code = _util._extract_country_code
_parse_prefix_as_idd = _util._parse_prefix_as_idd
_strip_national_prefix = _util._maybe_strip_national_prefix_carrier_code
_test_number_length = _util._test_number_length
_match_national_number = _util._match_national_number
_re_compile = _util.re_compile
_TOO_LONG = _util.ValidationResult.TOO_LONG
_SHORT = (
    _util.ValidationResult.TOO_SHORT,
    _util.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    _util.ValidationResult.INVALID_LENGTH,
)
_MIN_NSN, _MAX_NSN, _MAX_INPUT = _util._MIN_LENGTH_FOR_NSN, _util._MAX_LENGTH_FOR_NSN, _util._MAX_INPUT_STRING_LENGTH
_NON_GEO = phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
_CC_REGIONS: dict[int, tuple[str, ...]] = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)

# A "+" only first, then ASCII digits and the separators people type; nothing phonenumbers reads as an
# extension (x, #, ~, comma, semicolon), a letter or a second number (/).
_PLAIN = re.compile(r"\+?[0-9 ().\-]+")
_SEPARATORS = str.maketrans("", "", " ().-+")
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
)

# id(metadata) -> length -> a pattern that full-matches exactly the numbers of that length whose type is
# not UNKNOWN (None: no such number); metadata objects live as long as phonenumbers' module does.
_VALID_BY_LENGTH: dict[int, dict[int, re.Pattern[str] | None]] = {}
_LEADING: dict[tuple[str, ...], re.Pattern[str] | None] = {}  # a country code's regions -> who claims a number


def _desc_pattern(desc: Any, length: int) -> str | None:
    """The desc's pattern if a number of this length can match it (phonenumbers' _is_number_matching_desc)."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return str(desc.national_number_pattern)


def _valid_pattern(metadata: Any, length: int) -> re.Pattern[str] | None:
    """_number_type_helper != UNKNOWN as one pattern: the general desc and any one number type."""
    general = _desc_pattern(metadata.general_desc, length)
    if general is None:
        return None
    names = _TYPES if metadata.same_mobile_and_fixed_line_pattern else (*_TYPES, "mobile")
    types = [p for p in (_desc_pattern(getattr(metadata, name), length) for name in names) if p is not None]
    if not types:
        return None
    return re.compile(f"(?=(?:{general})\\Z)(?:{'|'.join(f'(?:{p})' for p in types)})")


def _is_valid_for(nsn: str, metadata: Any) -> bool:
    by_length = _VALID_BY_LENGTH.get(id(metadata))
    if by_length is None:
        by_length = _VALID_BY_LENGTH[id(metadata)] = {}
    length = len(nsn)
    if length not in by_length:
        by_length[length] = _valid_pattern(metadata, length)
    pattern = by_length[length]
    return pattern is not None and pattern.fullmatch(nsn) is not None


def _leading(regions: tuple[str, ...]) -> re.Pattern[str] | None:
    """The regions' leading-digits patterns as one alternation, in order; group `_i` names region i."""
    parts = []
    for i, region in enumerate(regions):
        metadata = PhoneMetadata.metadata_for_region(region, None)
        if metadata is not None and metadata.leading_digits is not None:
            parts.append(f"(?P<_{i}>{metadata.leading_digits})")
    return re.compile("|".join(parts)) if parts else None


def _region(nsn: str, regions: tuple[str, ...]) -> str | None:
    """phonenumbers' _region_code_for_number_from_list, with the leading-digits tests as one regex.

    Regions without leading digits are tried by full validation, in list order; a region with leading
    digits listed before such a region wins only if its pattern matches, so order is kept by checking,
    for each region without leading digits, whether an earlier leading-digits match exists.
    """
    if regions not in _LEADING:
        _LEADING[regions] = _leading(regions)
    combined = _LEADING[regions]
    match = combined.match(nsn) if combined is not None else None
    first = int(match.lastgroup[1:]) if match is not None and match.lastgroup else len(regions)
    for i in range(first):
        metadata = PhoneMetadata.metadata_for_region(regions[i], None)
        if metadata is not None and metadata.leading_digits is None and _is_valid_for(nsn, metadata):
            return regions[i]
    return regions[first] if first < len(regions) else None


def _is_valid(country_code: int, nsn: str) -> bool:
    """phonenumbers.is_valid_number for a parsed number."""
    regions = _CC_REGIONS.get(country_code)
    if regions is None:
        return False
    region = regions[0] if len(regions) == 1 else _region(nsn, regions)
    if region is None:
        return False
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return False
    if region != _NON_GEO and country_code != phonenumbers.country_code_for_valid_region(region):
        return False
    return _is_valid_for(nsn, metadata)


def _country_code(digits: str, plus: bool, metadata: Any) -> tuple[int, str] | None:
    """phonenumbers' _maybe_extract_country_code on digits already normalised; None where it would raise."""
    if not plus:
        idd = metadata.international_prefix if metadata is not None else None
        plus, digits = _parse_prefix_as_idd(_re_compile(idd if idd is not None else "NonMatch"), digits)
    if plus:
        if len(digits) <= _MIN_NSN:
            return None
        code, rest = _extract_country_code(digits)
        return (code, rest) if code != 0 else None
    if metadata is not None:
        code_str = str(metadata.country_code)
        if digits.startswith(code_str):
            general = metadata.general_desc
            _, national, _ = _strip_national_prefix(digits[len(code_str) :], metadata)
            if (
                not _match_national_number(digits, general, False) and _match_national_number(national, general, False)
            ) or _test_number_length(digits, metadata) == _TOO_LONG:
                return metadata.country_code, national
    return 0, ""


def _parse(text: str, region: str | None) -> tuple[int, str] | None:
    """(country code, national significant number) as phonenumbers.parse gives them, or None (not plain,
    or the library would raise, or the retry it makes after a bad country code would be needed)."""
    if len(text) > _MAX_INPUT or not _PLAIN.fullmatch(text):
        return None
    digits = text.translate(_SEPARATORS)
    plus = text[0] == "+"
    if len(digits) < 3 or (region is None and not plus) or (region is not None and region not in _REGIONS):
        return None
    metadata: Any = PhoneMetadata.metadata_for_region(region, None) if region is not None else None
    extracted = _country_code(digits, plus, metadata)
    if extracted is None:
        return None
    code, national = extracted
    if code == 0:  # written nationally: the default region's (it has metadata: not plus, so a region)
        code, national = metadata.country_code, digits
    elif (number_region := phonenumbers.region_code_for_country_code(code)) != region:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, number_region)
    significant = _significant(national, metadata)
    return None if significant is None else (code, significant)


def _significant(national: str, metadata: Any) -> str | None:
    """The national number without a national (trunk) prefix where parse strips it; None: a bad length.

    phonenumbers keeps the leading zeros left (Italian style) and int()s the rest: the national
    significant number it formats is this string itself.
    """
    if len(national) < _MIN_NSN:
        return None
    if metadata is not None:
        _, potential, _ = _strip_national_prefix(national, metadata)
        if _test_number_length(potential, metadata) not in _SHORT:
            national = potential
    return national if _MIN_NSN <= len(national) <= _MAX_NSN else None


def fast_e164(text: str, region: str | None) -> str | None:
    """The E.164 form if `text` is plainly written and valid, exactly as phonenumbers would say; else None.

    `text` is stripped, `region` upper-case or None (as numbers.parse_number passes them).
    """
    parsed = _parse(text, region)
    if parsed is None:
        return None
    code, nsn = parsed
    return f"+{code}{nsn}" if _is_valid(code, nsn) else None
