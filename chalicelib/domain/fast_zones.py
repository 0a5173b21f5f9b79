"""A valid number's candidate time zones without phonenumbers' parse and type loop, with its exact answer.

`phonenumbers.timezone.time_zones_for_number` parses the number, finds its type (one regex per type, in
order) and then looks its E.164 digits up by longest prefix (a geographic type) or takes its country
calling code's zones (any other type). The parse and the type are ~45 µs a number; a plan asks for
100,000 numbers and the ingest stores every contact's zones. This module does the same steps on the
digits of a plainly written number (fast_numbers' parse), and needs the type only when the two lookups
disagree (a +1 number: its area code's zone vs every North American zone); then it decides "geographic
or not" with two combined patterns per region and number length, built once from phonenumbers' metadata.

Only for VALID numbers (the contacts a batch stores): anything it cannot answer exactly returns None and
the caller asks phonenumbers. tests/unit/domain/test_fast_zones.py compares it with phonenumbers.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

from phonenumbers import PhoneMetadata, PhoneNumber
from phonenumbers import timezone as phone_timezone

from .fast_numbers import _CC_REGIONS, _desc_pattern, _parse, _region, _significant

__all__ = ["fast_region", "fast_time_zones"]

_util: Any = importlib.import_module("phonenumbers.phonenumberutil")  # private helpers: no type stubs
_GEO_MOBILE: frozenset[int] = frozenset(_util._GEO_MOBILE_COUNTRIES)
_DATA: dict[str, tuple[str, ...]] = getattr(phone_timezone, "TIMEZONE_DATA")  # noqa: B009
_LONGEST: int = getattr(phone_timezone, "TIMEZONE_LONGEST_PREFIX")  # noqa: B009 (not in the type stubs)
_CANONICAL = re.compile(r"\+[1-9][0-9]{6,16}")
# the types number_type tests before fixed line, in its order: a match means "not geographic"
_NOT_GEOGRAPHIC = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail")

# (id(metadata), length) -> (general, not-geographic, fixed-line, mobile patterns); metadata objects
# live as long as phonenumbers' module does.
_PATTERNS: dict[tuple[int, int], tuple[re.Pattern[str] | None, ...]] = {}


def fast_time_zones(e164: str) -> tuple[str, ...] | None:
    """phonenumbers' `time_zones_for_number(parse(e164, None))` for a valid number; None: ask phonenumbers."""
    parsed = (_split(e164) if _CANONICAL.fullmatch(e164) else None) or _parse(e164, None)
    if parsed is None:
        return None
    code, significant = parsed
    geographic = _by_prefix(f"{code}{significant}")
    country = _country_zones(code)
    if geographic == country:  # the type cannot change the answer
        return geographic
    kind = _is_geographic(code, significant)
    if kind is None:
        return None
    return geographic if kind else country


def fast_region(e164: str) -> str | None:
    """phonenumbers' `region_code_for_number(parse(e164, None))` for a valid number; None: ask phonenumbers."""
    parsed = (_split(e164) if _CANONICAL.fullmatch(e164) else None) or _parse(e164, None)
    if parsed is None:
        return None
    regions = _CC_REGIONS.get(parsed[0])
    if not regions:
        return None
    return regions[0] if len(regions) == 1 else _region(parsed[1], regions)


def _split(e164: str) -> tuple[int, str] | None:
    """(country code, national significant number) of a number in E.164 form: the calling codes are
    prefix-free, and E.164 is the code followed by the significant number as it is, unless the rest starts
    with a national prefix that phonenumbers' parse would strip (then None: the full parse decides)."""
    for length in (1, 2, 3):
        code = int(e164[1 : 1 + length])
        regions = _CC_REGIONS.get(code)
        if regions is not None:
            national = e164[1 + length :]
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, regions[0])
            return (code, national) if _significant(national, metadata) == national else None
    return None


def _by_prefix(digits: str) -> tuple[str, ...]:
    """time_zones_for_geographical_number: the longest prefix of the E.164 digits in phonenumbers' data."""
    for length in range(min(_LONGEST, len(digits)), 0, -1):
        zones = _DATA.get(digits[:length])
        if zones is not None:
            return zones
    return phone_timezone._UNKNOWN_TIME_ZONE_LIST


@cache
def _country_zones(code: int) -> tuple[str, ...]:
    return tuple(phone_timezone._country_level_time_zones_for_number(PhoneNumber(country_code=code)))


def _is_geographic(code: int, significant: str) -> bool | None:
    """is_number_type_geographical(number_type(...)) for a valid number; None where the type is UNKNOWN."""
    regions = _CC_REGIONS.get(code)
    if not regions:
        return None
    region = regions[0] if len(regions) == 1 else _region(significant, regions)
    if region is None:
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if metadata is None:
        return None
    key = (id(metadata), len(significant))
    patterns = _PATTERNS.get(key)
    if patterns is None:
        patterns = _PATTERNS[key] = _patterns(metadata, len(significant))
    general, not_geographic, fixed_line, mobile = patterns
    if general is None or not general.fullmatch(significant):
        return None
    if not_geographic is not None and not_geographic.fullmatch(significant):
        return False
    if fixed_line is not None and fixed_line.fullmatch(significant):
        return True  # FIXED_LINE or FIXED_LINE_OR_MOBILE
    if mobile is not None and mobile.fullmatch(significant):
        return code in _GEO_MOBILE
    return None


def _patterns(metadata: Any, length: int) -> tuple[re.Pattern[str] | None, ...]:
    def one(*names: str) -> re.Pattern[str] | None:
        found = [p for p in (_desc_pattern(getattr(metadata, name), length) for name in names) if p is not None]
        return re.compile("|".join(f"(?:{p})" for p in found)) if found else None

    mobile = None if metadata.same_mobile_and_fixed_line_pattern else one("mobile")
    return one("general_desc"), one(*_NOT_GEOGRAPHIC), one("fixed_line"), mobile
