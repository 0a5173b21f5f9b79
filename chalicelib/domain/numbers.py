"""Phone number rules: a number as people (and spreadsheets) write it -> E.164, the default region, masking.

One rule decides what a callable number is (`valid_number`): the contacts readers, the agents' and the
batches' caller IDs all pass through it; only the messages differ with the audience.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from .contacts_error import ContactsError
from .fast_numbers import fast_e164

__all__ = [
    "EmptyNumber",
    "InvalidNumber",
    "NotValid",
    "check_region",
    "e164",
    "mask_number",
    "normalize_number",
    "parse_number",
    "valid_number",
]

_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")
_E164 = PhoneNumberFormat.E164
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


class InvalidNumber(ValueError):
    """A number cell that cannot be turned into a valid E.164 number; str() is the user-facing reason."""


class EmptyNumber(InvalidNumber):
    """The number cell is empty (or only spaces): readers count it as a missing number, not an invalid one."""


class NotValid(ValueError):
    """The text parses as a number that no numbering plan has (`valid_number`); carries the parsed number."""

    def __init__(self, number: phonenumbers.PhoneNumber) -> None:
        super().__init__("not a valid number")
        self.number = number


def valid_number(text: str, region: str | None) -> phonenumbers.PhoneNumber:
    """The one rule: phonenumbers parses it and the number is valid. Raises NumberParseException or NotValid."""
    number = phonenumbers.parse(text, region)
    if not phonenumbers.is_valid_number(number):
        raise NotValid(number)
    return number


def e164(value: str) -> str:
    """A caller ID written in +E.164 (no region to guess from); ValueError with a message for the API."""
    try:
        number = valid_number(value, None)
    except NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number in +E.164 form: {exc}") from None
    except NotValid:
        raise ValueError(f"{value!r} is not a valid phone number") from None
    return phonenumbers.format_number(number, _E164)


def normalize_number(raw: str, default_region: str | None) -> str:
    """E.164 for a number as people type it; raises InvalidNumber with a message fit for the user."""
    return parse_number(raw, default_region.strip().upper() if default_region else None)[0]


def parse_number(raw: str, region: str | None) -> tuple[str, str]:
    """Hot path (region is upper-case or None): E.164 and the extension written after it ("" if none).

    We dial E.164, so an extension is dropped and the caller warns. Raises EmptyNumber for an empty cell
    and InvalidNumber, with a message fit for the user, for anything else that is not a valid number.
    """
    text = _unwrapped(raw.strip(), region)
    fast = fast_e164(text, region)  # plainly written and valid: phonenumbers' answer, faster
    if fast is not None:
        return fast, ""
    try:
        number = valid_number(text, region)
    except NumberParseException as exc:
        raise InvalidNumber(_parse_failure(exc, text, region)) from None
    except NotValid as exc:
        raise InvalidNumber(_invalid_message(exc.number, region)) from None
    return phonenumbers.format_number(number, _E164), number.extension or ""


def _unwrapped(text: str, region: str | None) -> str:
    """The number cell without what spreadsheets add to it; EmptyNumber, or InvalidNumber for lost digits."""
    if not text:
        raise EmptyNumber("the number is empty")
    first = text[0]
    if first == "'":  # Excel's "store as text" apostrophe
        text = text[1:].lstrip()
    elif first == "=" and text[1:2] == '"' and text[-1] == '"' and len(text) > 3:  # ="0123" formula trick
        text = text[2:-1].strip()
    if "e" in text or "E" in text:
        if _SCIENTIFIC.fullmatch(text):
            raise InvalidNumber(
                f"{text} is scientific notation: the spreadsheet turned the number into a formula/number "
                "format and lost digits; format the column as text and enter the numbers again"
            )
    elif text[-2:] == ".0" and text[:-2].lstrip("+").isdigit():  # Excel's float rendering of a long number
        text = text[:-2]
    if region is None and text[:2] == "00":  # the common international prefix; phonenumbers needs a region
        text = "+" + text[2:]
    return text


def _invalid_message(number: phonenumbers.PhoneNumber, region: str | None) -> str:
    # region_code_for_number() would try every region sharing the code (25 for +1): too slow for a message
    code = number.country_code or 0
    if region is not None and phonenumbers.country_code_for_region(region) == code:
        return f"not a valid number for region {region}"
    where = phonenumbers.region_code_for_country_code(code)
    if where == phonenumbers.UNKNOWN_REGION:
        return f"not a valid number for country code +{code}"
    return f"not a valid number for region {where}"


def _parse_failure(exc: NumberParseException, text: str, region: str | None) -> str:
    kind = exc.error_type
    if kind == NumberParseException.INVALID_COUNTRY_CODE:
        if "+" not in text and "\uff0b" not in text and (region is None or region not in _REGIONS):
            return "number written without +country code and no default_region given"
        return "unknown country calling code"
    if kind == NumberParseException.TOO_SHORT_AFTER_IDD:
        return "too short after the international prefix"
    if kind == NumberParseException.TOO_SHORT_NSN:
        return "too short to be a phone number"
    if kind == NumberParseException.TOO_LONG:
        return "too long to be a phone number"
    return "not a phone number"


def check_region(default_region: str | None) -> str | None:
    """The default region, upper-case, or None; fails at construction so a bad form field is a 400, not
    thousands of invalid rows."""
    if default_region is None or (isinstance(default_region, str) and not default_region.strip()):
        return None
    if isinstance(default_region, str):
        region = default_region.strip().upper()
        if len(region) == 2 and region in _REGIONS:
            return region
    raise ContactsError(
        "invalid_region",
        f"default_region {default_region!r} is not a supported 2-letter region code such as US, IN or GB",
    )


def mask_number(e164: str) -> str:
    """For logs and support screens: "+919876543210" -> "+91******3210" (country code and last 4 kept)."""
    if not e164.startswith("+"):
        return _mask_tail(e164)
    digits = e164[1:]
    for size in (1, 2, 3):
        head = digits[:size]
        if head.isdigit() and int(head) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return "+" + head + _mask_tail(digits[size:])
    return "+" + _mask_tail(digits)


def _mask_tail(digits: str) -> str:
    keep = 4 if len(digits) > 4 else 0
    return "*" * (len(digits) - keep) + digits[len(digits) - keep :]
