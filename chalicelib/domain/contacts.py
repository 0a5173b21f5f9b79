"""Contacts ingestion: CSV bytes (or JSON records) in, validated E.164 contacts and per-row errors out.

Pure Python (stdlib + phonenumbers) so the API, the workers and the tests share one set of rules.
It streams: neither the file nor the contacts are ever held whole; only the dedupe table grows.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from .dedupe import NumberTable

__all__ = [
    "NUMBER_COLUMN_ALIASES",
    "Contact",
    "ContactReader",
    "ContactsError",
    "InvalidNumber",
    "RecordReader",
    "RowError",
    "Summary",
    "mask_number",
    "normalize_number",
    "read_records",
]

NUMBER_COLUMN_ALIASES: tuple[str, ...] = ("contact_number", "phone_number", "phone")

MAX_RECORD_BYTES = 2 << 20  # one record (a line, or lines joined by quoted newlines): bounds memory
MAX_COLUMNS = 1024  # cells per record: a 2 MiB line of commas must not become a million-key dict
# What one contact may carry into its execution item: DynamoDB takes 400 KB per item and 4 MB per
# transaction, and the dispatcher writes 99 executions per transaction, so ~40 KB each at most.
MAX_CELL_CHARS = 8192  # one variable's value; longer: the row is skipped as `cell_too_long`
MAX_CONTACT_BYTES = 32 * 1024  # a contact's variable names + values (UTF-8); more: `row_too_large`
MAX_NAME_CHARS = 128  # one column name (a variable name)
MAX_HEADER_BYTES = 16 * 1024  # every column name together (UTF-8)
MAX_DETAILS = 10  # rows listed in `no_valid_contacts`' details (all of them are in the errors report)
MAX_VALUE_CHARS = 100  # a row error's `value` (the number cell as written) is cut to this
MAX_WARNING_ROWS = 100  # row numbers listed in a warning (the warning's row_count has them all)
_EXTRA_NAME_BYTES = 12  # `column_1024`: the name given to a cell beyond the header
_NAME_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SNIFF_BYTES = 512  # enough to spot a BOM or the NUL pattern of BOM-less UTF-16
_CONTROL_WINDOW = 4096  # control characters are judged per window so a binary tail is still caught
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13)) + b"\x7f"
_BLANK_LINE_CHARS = " \t\r\n\x0b\x0c\xa0\ufeff,;"
_DELIMITERS = (",", ";", "\t")
_ALIAS_RANK = {"".join(filter(str.isalnum, alias)): rank for rank, alias in enumerate(NUMBER_COLUMN_ALIASES)}
_NO_ALIAS = len(NUMBER_COLUMN_ALIASES)
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")
_E164 = PhoneNumberFormat.E164


def _allow_fields_up_to_the_record_limit() -> None:
    """csv's field limit (1 MiB by default here, 128 KiB in CPython) would fail the whole file on one long
    cell; our own record limit comes first, so a long cell can skip only its row (`cell_too_long`).

    The limit is process-wide: it is only ever raised (concurrent readers all set the same value, so
    threads cannot undo each other), and checked per reader in case other code lowered it since import.
    """
    if csv.field_size_limit() < MAX_RECORD_BYTES:
        csv.field_size_limit(MAX_RECORD_BYTES)


_allow_fields_up_to_the_record_limit()


def _latin1_for_undefined(exc: UnicodeError) -> tuple[str, int]:
    """cp1252 leaves 5 bytes undefined; keep them as their Latin-1 code points rather than reject the row."""
    assert isinstance(exc, UnicodeDecodeError)
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


codecs.register_error("contacts.latin1", _latin1_for_undefined)


class ContactsError(Exception):
    """The whole input is unusable -> the API answers 400 with this code and message."""

    def __init__(self, code: str, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or []  # `no_valid_contacts`: the first rows' errors, as in the errors report

    def __reduce__(self) -> tuple[type[ContactsError], tuple[str, str, list[dict[str, Any]]]]:
        return type(self), (self.code, self.message, self.details)


class InvalidNumber(ValueError):
    """A number cell that cannot be turned into a valid E.164 number; str() is the user-facing reason."""


@dataclass(frozen=True, slots=True)
class Contact:
    row: int
    number: str
    variables: dict[str, str]


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    reason: str  # "blank_row" | "missing_number" | "invalid_number" | "duplicate" | "cell_too_long" | "row_too_large"
    value: str  # the number cell as written, cut to MAX_VALUE_CHARS
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The errors report's line (and a `no_valid_contacts` detail)."""
        return {"row": self.row, "reason": self.reason, "value": self.value, "message": self.message}


@dataclass
class Summary:
    total: int
    valid: int
    invalid: int
    duplicate: int
    blank: int
    encoding: str
    delimiter: str
    number_column: str
    columns: list[str]
    warnings: list[dict[str, Any]] = field(default_factory=list)  # rows kept with a change: like template warnings


# --------------------------------------------------------------------------- numbers


def normalize_number(raw: str, default_region: str | None) -> str:
    """E.164 for a number as people type it; raises InvalidNumber with a message fit for the user."""
    text = raw.strip()
    if not text:
        raise InvalidNumber("the number is empty")
    return _normalize(text, default_region.strip().upper() if default_region else None)[0]


def _normalize(text: str, region: str | None) -> tuple[str, str]:
    """Hot path: text is stripped and non-empty, region is upper-case or None. E.164 and the extension
    written after it ("" if none): we dial E.164, so an extension is dropped and the caller warns."""
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
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidNumber(_parse_failure(exc, text, region)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber(_invalid_message(number, region))
    return phonenumbers.format_number(number, _E164), number.extension or ""


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


_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


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


def _check_region(default_region: str | None) -> str | None:
    """Fails at construction so a bad form field is a 400, not thousands of invalid rows."""
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


# --------------------------------------------------------------------------- shared validation


def _clean_header(name: str) -> str:
    return name.strip().strip("\ufeff").strip()


def _alias_rank(name: str) -> int:
    return _ALIAS_RANK.get("".join(filter(str.isalnum, name.casefold())), _NO_ALIAS)


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add(candidate)
    return candidate


_REASON_WORDS = {  # the order the no_valid_contacts message lists them in
    "invalid_number": ("invalid number", "invalid numbers"),
    "missing_number": ("missing number", "missing numbers"),
    "duplicate": ("duplicate", "duplicates"),
    "cell_too_long": ("row with a cell too long", "rows with a cell too long"),
    "row_too_large": ("row too large", "rows too large"),
}


def _counted(n: int, words: tuple[str, str]) -> str:
    return f"{n} {words[n != 1]}"


def _shown(raw: str) -> str:
    """A row error's value: the number cell as written, cut short (it may be a megabyte of anything)."""
    return raw if len(raw) <= MAX_VALUE_CHARS else raw[:MAX_VALUE_CHARS] + "\u2026"


class _Validator:
    """Counters, dedupe and the summary rules shared by the CSV and the JSON readers."""

    def __init__(self, default_region: str | None) -> None:
        self._region = _check_region(default_region)
        self._seen = NumberTable()  # E.164 digits as int -> first row; ~24-48 bytes per unique number
        self._valid = self._blank = 0
        self._reasons = dict.fromkeys(_REASON_WORDS, 0)  # skipped rows (blank rows aside) by reason
        self._firsts: list[RowError] = []  # the first MAX_DETAILS of them, for no_valid_contacts' details
        self._extension_rows: list[int] = []
        self._extensions = 0
        self._started = False
        self._summary: Summary | None = None
        self._error: ContactsError | None = None

    def _skip(self, error: RowError) -> RowError:
        """Count a skipped (non-blank) row by its reason; off the hot path: valid rows never come here."""
        self._reasons[error.reason] += 1
        if len(self._firsts) < MAX_DETAILS:
            self._firsts.append(error)
        return error

    def _extension_dropped(self, row: int) -> None:
        self._extensions += 1
        if len(self._extension_rows) < MAX_WARNING_ROWS:
            self._extension_rows.append(row)

    def _check(self, row: int, raw: str) -> str | RowError:
        """E.164 for a valid first occurrence, else the row's error; counts either way."""
        text = raw.strip()
        if not text:
            return self._skip(RowError(row, "missing_number", _shown(raw), "the number is empty"))
        try:
            e164, extension = _normalize(text, self._region)
        except InvalidNumber as exc:
            return self._skip(RowError(row, "invalid_number", _shown(raw), str(exc)))
        first = self._seen.setdefault(int(e164[1:]), row)
        if first != row:
            return self._skip(RowError(row, "duplicate", _shown(raw), f"duplicate of row {first}"))
        self._valid += 1
        if extension:
            self._extension_dropped(row)
        return e164

    def _blank_row(self, row: int) -> RowError:
        self._blank += 1
        return RowError(row, "blank_row", "", "blank row")

    def _start(self) -> None:
        if self._started:
            raise RuntimeError(f"a {type(self).__name__} can be iterated only once")
        self._started = True

    def _finish(self, encoding: str, delimiter: str, number_column: str, columns: list[str]) -> None:
        duplicate = self._reasons["duplicate"]
        invalid = sum(self._reasons.values()) - duplicate  # every other skipped row, missing numbers included
        total = self._valid + invalid + duplicate
        if total == 0:
            raise ContactsError("no_rows", "there are no data rows: the first row is the header, contacts follow")
        self._summary = Summary(
            total,
            self._valid,
            invalid,
            duplicate,
            self._blank,
            encoding,
            delimiter,
            number_column,
            columns,
            self._warnings(),
        )
        if self._valid == 0:
            self._error = self._no_valid_contacts(total)

    def _no_valid_contacts(self, total: int) -> ContactsError:
        parts = [
            _counted(self._reasons[reason], words) for reason, words in _REASON_WORDS.items() if self._reasons[reason]
        ]
        blank = f"; {_counted(self._blank, ('blank row', 'blank rows'))} ignored" if self._blank else ""
        listed = "each row" if total <= MAX_DETAILS else f"the first {MAX_DETAILS} rows"
        return ContactsError(
            "no_valid_contacts",
            f"none of the {total} rows can be called: {', '.join(parts)}{blank} (details gives {listed} and why)",
            [error.as_dict() for error in self._firsts],
        )

    def _warnings(self) -> list[dict[str, Any]]:
        """Rows kept with a change the user should know of, shaped like the template warnings."""
        if not self._extensions:
            return []
        n = self._extensions
        return [
            {
                "code": "number_extension_dropped",
                "message": f"{_counted(n, ('number has', 'numbers have'))} an extension (such as 'ext. 23'); "
                "extensions cannot be dialled, so those contacts are called at the main number",
                "rows": self._extension_rows,
                "row_count": n,
            }
        ]

    @property
    def summary(self) -> Summary:
        if self._error is not None:
            raise self._error
        if self._summary is None:
            raise RuntimeError("the summary is available once iteration has finished")
        return self._summary


# --------------------------------------------------------------------------- CSV


class ContactReader(_Validator):
    """Streams contacts out of CSV bytes with bounded memory."""

    def __init__(self, chunks: Iterable[bytes], default_region: str | None = None):
        super().__init__(default_region)
        self._chunks: Iterable[bytes] = [chunks] if isinstance(chunks, (bytes, bytearray)) else chunks
        self._encoding = "utf-8"
        self._fell_back = False  # some line was not UTF-8 and was read as cp1252
        self._record_bytes = 0  # bytes fed to csv since the last record; reset by _run

    def __iter__(self) -> Iterator[Contact | RowError]:
        self._start()
        return self._run()

    def _run(self) -> Iterator[Contact | RowError]:
        try:
            yield from self._rows()
        except ContactsError as exc:
            self._error = exc
            raise
        except csv.Error as exc:  # not expected: csv's field limit is the record limit, checked first
            self._error = ContactsError("not_text", f"cannot read the CSV: {exc}")
            raise self._error from None

    def _rows(self) -> Iterator[Contact | RowError]:
        lines = self._lines()
        row = 0
        for line in lines:  # leading blank lines still count as spreadsheet rows
            row += 1
            self._record_bytes = 0
            if line.strip(_BLANK_LINE_CHARS):
                break
        else:
            raise ContactsError("empty_file", "the file is empty")
        _allow_fields_up_to_the_record_limit()
        delimiter = _sniff_delimiter(line)
        reader = csv.reader(itertools.chain((line,), lines), delimiter=delimiter, strict=False)
        written = [_clean_header(cell) for cell in next(reader, [])]
        if len(written) > MAX_COLUMNS:
            raise _too_many_columns(row)
        num_idx = _number_column(written)
        used: set[str] = set()
        names = [_unique(name or f"column_{i}", used) for i, name in enumerate(written, 1)]
        header_bytes = _check_names(names, num_idx)
        num_key, width = names[num_idx], len(names)
        # The loop below is the hot path: _Validator._check inlined, the valid count kept in a local;
        # a skipped row is counted by _skip (off the hot path).
        region, seen, normalize, skip = self._region, self._seen, _normalize, self._skip
        valid = blank = 0
        for fields in reader:
            row += 1
            size, self._record_bytes = self._record_bytes, 0  # this record's bytes (UTF-8): >= its values'
            n = len(fields)
            raw = fields[num_idx] if n > num_idx else ""
            text = raw.strip()
            if not text:
                if any(map(str.strip, fields)):
                    yield skip(RowError(row, "missing_number", _shown(raw), "the number is empty"))
                else:
                    blank += 1
                    yield RowError(row, "blank_row", "", "blank row")
                continue
            try:
                e164, extension = normalize(text, region)
            except InvalidNumber as exc:
                error = RowError(row, "invalid_number", _shown(raw), str(exc))
            else:
                if size > MAX_CELL_CHARS or n > width:  # cheap test first: short rows cannot break a limit
                    if n > MAX_COLUMNS:
                        raise _too_many_columns(row)
                    values = fields[:num_idx] + fields[num_idx + 1 :]
                    problem = _oversized(row, raw, values, header_bytes + _EXTRA_NAME_BYTES * max(0, n - width))
                    if problem is not None:
                        yield skip(problem)
                        continue
                first = seen.setdefault(int(e164[1:]), row)
                if first == row:
                    valid += 1
                    if extension:
                        self._extension_dropped(row)
                    variables = dict(zip(names, fields, strict=False))  # ragged rows fixed below
                    if n != width:
                        if n < width:
                            variables.update(dict.fromkeys(names[n:], ""))
                        else:
                            taken = set(variables)
                            for i in range(width, n):
                                variables[_unique(f"column_{i + 1}", taken)] = fields[i]
                    del variables[num_key]
                    yield Contact(row, e164, variables)
                    continue
                error = RowError(row, "duplicate", _shown(raw), f"duplicate of row {first}")
            yield skip(error)
        self._valid, self._blank = valid, blank
        encoding = "cp1252" if self._fell_back else self._encoding
        self._finish(encoding, delimiter, written[num_idx], names)

    # -- bytes -> text lines

    def _lines(self) -> Iterator[str]:
        """Decoded lines with their endings kept, so csv sees quoted newlines and record ends."""
        chunks = iter(self._chunks)
        head = b""
        for chunk in chunks:
            head += chunk
            if len(head) >= _SNIFF_BYTES:
                break
        if not head:
            raise ContactsError("empty_file", "the file is empty")
        rest: Iterator[bytes] = itertools.chain((head,), chunks)
        if head.startswith(codecs.BOM_UTF8):
            self._encoding = "utf-8-sig"
            rest = itertools.chain((head[3:],), chunks)
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self._encoding = "utf-16"
            rest = _from_utf16(rest, "utf-16")
        elif b"\x00" in head:
            codec = _utf16_without_bom(head)
            if codec is None:
                raise ContactsError("not_text", "this is a binary file, not a CSV text file")
            self._encoding = codec
            rest = _from_utf16(rest, codec)
        return self._split(rest)

    def _split(self, chunks: Iterator[bytes]) -> Iterator[str]:
        """Split on \\r\\n, \\n and lone \\r ourselves: a piece may end anywhere, even between \\r and \\n."""
        pending: list[bytes] = []  # an unfinished line, in pieces (joining per piece would be quadratic)
        pending_len = 0
        held_cr = False  # pending ends with \r that may be the first half of \r\n
        controls = window = total = 0
        for chunk in chunks:
            if not chunk:
                continue
            if b"\x00" in chunk:
                raise ContactsError("not_text", "this is a binary file, not a CSV text file (it has NUL bytes)")
            controls += len(chunk) - len(chunk.translate(None, _CONTROL_BYTES))
            window += len(chunk)
            if window >= _CONTROL_WINDOW:
                _judge_controls(controls, window)
                total += window
                controls = window = 0
            if pending:
                if not held_cr and b"\n" not in chunk and b"\r" not in chunk:
                    pending.append(chunk)
                    pending_len += len(chunk)
                    if pending_len > MAX_RECORD_BYTES:
                        raise _too_long()
                    continue
                pending.append(chunk)
                chunk = b"".join(pending)
            lines = chunk.splitlines(True)
            last = lines[-1]
            if last[-1:] == b"\n":
                pending, held_cr = [], False
            else:
                lines.pop()
                pending, pending_len, held_cr = [last], len(last), last[-1:] == b"\r"
                if pending_len > MAX_RECORD_BYTES:
                    raise _too_long()
            for line in lines:
                yield self._decode(line)
        if window and (total == 0 or window >= 256):  # a short tail (e.g. a DOS ^Z) is not judged alone
            _judge_controls(controls, window)
        if pending:
            line = b"".join(pending)
            if line != b"\x1a":  # DOS end-of-file marker
                yield self._decode(line)

    def _decode(self, line: bytes) -> str:
        self._record_bytes += len(line)
        if self._record_bytes > MAX_RECORD_BYTES:
            raise _too_long()
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self._fell_back = True  # per line, so a file mixing UTF-8 and Excel's cp1252 still reads
            return line.decode("cp1252", "contacts.latin1")


def _too_many_columns(row: int) -> ContactsError:
    return ContactsError("too_many_columns", f"row {row} has more than {MAX_COLUMNS} cells (the limit)")


def _check_names(names: list[str], number_index: int) -> int:
    """Column names become variable names: bounded in length, no control characters. Returns their bytes."""
    total = 0
    for index, name in enumerate(names):
        if len(name) > MAX_NAME_CHARS:
            raise ContactsError(
                "invalid_header",
                f"column {index + 1}'s name is {len(name)} characters long; the limit is {MAX_NAME_CHARS} "
                "(is the first row a header?)",
            )
        if _NAME_CONTROLS.search(name):
            raise ContactsError("invalid_header", f"column {index + 1}'s name {name!r} has control characters")
        if index != number_index:
            total += len(name.encode("utf-8", "surrogatepass"))
    if total > MAX_HEADER_BYTES:
        raise ContactsError(
            "invalid_header", f"the column names take {total} bytes together; the limit is {MAX_HEADER_BYTES}"
        )
    return total


def _oversized(row: int, raw: str, values: Iterable[str], names_bytes: int) -> RowError | None:
    """The row's error if a value or the whole contact is too large to carry into its execution."""
    total = names_bytes
    for value in values:
        if len(value) > MAX_CELL_CHARS:
            return RowError(
                row, "cell_too_long", _shown(raw), f"a cell has {len(value)} characters; the limit is {MAX_CELL_CHARS}"
            )
        total += len(value.encode("utf-8", "surrogatepass"))
    if total > MAX_CONTACT_BYTES:
        return RowError(
            row, "row_too_large", _shown(raw), f"the row's columns take {total} bytes; the limit is {MAX_CONTACT_BYTES}"
        )
    return None


def _too_long() -> ContactsError:
    return ContactsError(
        "not_text",
        f"a record (a line, or lines joined by a quoted newline) is longer than {MAX_RECORD_BYTES >> 20} MiB, "
        "the limit: not a contacts CSV, or a quote that is never closed",
    )


def _judge_controls(controls: int, size: int) -> None:
    if controls * 20 > size:  # > 5%: real text has next to none
        raise ContactsError("not_text", "this looks like a binary file, not a CSV text file")


def _utf16_without_bom(head: bytes) -> str | None:
    """ASCII-heavy UTF-16 has a NUL in every other byte: the side of the NULs gives the byte order."""
    sample = head[: len(head) & ~1]
    half = len(sample) // 2
    if half < 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd * 10 >= half * 4 and even * 20 <= half:
        return "utf-16-le"
    if even * 10 >= half * 4 and odd * 20 <= half:
        return "utf-16-be"
    return None


def _from_utf16(chunks: Iterable[bytes], codec: str) -> Iterator[bytes]:
    """Re-encode as UTF-8 so one line splitter (which only knows bytes) serves every encoding."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    try:
        for chunk in chunks:
            text = decoder.decode(chunk)
            if text:
                yield text.encode("utf-8")
        text = decoder.decode(b"", True)
    except UnicodeDecodeError:
        raise ContactsError("not_text", "the file looks like UTF-16 but is not valid UTF-16") from None
    if text:
        yield text.encode("utf-8")


def _sniff_delimiter(line: str) -> str:
    """The delimiter whose split shows a number column, else the one giving most columns (csv.Sniffer guesses)."""
    best, best_score = ",", (False, 0)
    for delimiter in _DELIMITERS:
        try:
            cells = next(csv.reader((line,), delimiter=delimiter, strict=False), [])
        except csv.Error:
            continue
        score = (any(_alias_rank(_clean_header(c)) < _NO_ALIAS for c in cells), len(cells))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _number_column(headers: list[str]) -> int:
    ranks = [_alias_rank(h) for h in headers]
    best = min(ranks, default=_NO_ALIAS)
    if best == _NO_ALIAS:
        shown = ", ".join(repr(h) for h in headers[:20]) + (
            f" and {len(headers) - 20} more" if len(headers) > 20 else ""
        )
        raise ContactsError(
            "no_number_column",
            f"no phone number column: the header (first row) needs one of {', '.join(NUMBER_COLUMN_ALIASES)} "
            f"(any case; spaces, dashes and underscores ignored); found {shown or 'no columns'}",
        )
    return ranks.index(best)


# --------------------------------------------------------------------------- JSON records


class RecordReader(_Validator):
    """The JSON API's contacts: same rules as the CSV, the number key found per record by the same aliases."""

    def __init__(self, records: Iterable[Mapping[str, object]], default_region: str | None = None):
        super().__init__(default_region)
        self._records = records

    def __iter__(self) -> Iterator[Contact | RowError]:
        self._start()
        return self._run()

    def _run(self) -> Iterator[Contact | RowError]:
        try:
            yield from self._rows()
        except ContactsError as exc:
            self._error = exc
            raise

    def _rows(self) -> Iterator[Contact | RowError]:
        columns: dict[str, None] = {}  # ordered set of every key seen
        number_column: str | None = None
        row = 0
        for row, record in enumerate(self._records, 1):
            if not isinstance(record, Mapping):
                yield self._skip(RowError(row, "missing_number", "", "the record is not an object"))
                continue
            if len(record) > MAX_COLUMNS + 1:  # the number field and up to MAX_COLUMNS variables
                raise ContactsError("too_many_columns", f"record {row} has more than {MAX_COLUMNS} fields (the limit)")
            used: set[str] = set()
            cells = {
                _unique(_clean_header(str(k)) or f"column_{i}", used): "" if v is None else str(v)
                for i, (k, v) in enumerate(record.items(), 1)
            }
            new = [name for name in cells if name not in columns]
            if new:
                _check_names(new, -1)
                columns.update(dict.fromkeys(new))
            if not any(map(str.strip, cells.values())):
                yield self._blank_row(row)
                continue
            key = min(cells, key=_alias_rank, default=None)
            if key is None or _alias_rank(key) == _NO_ALIAS:
                yield self._skip(RowError(row, "missing_number", "", f"no {' / '.join(NUMBER_COLUMN_ALIASES)} field"))
                continue
            if number_column is None:
                number_column = key
            number = cells.pop(key)
            names_bytes = sum(len(name.encode("utf-8", "surrogatepass")) for name in cells)
            problem = _oversized(row, number, cells.values(), names_bytes)
            if problem is not None:
                yield self._skip(problem)
                continue
            result = self._check(row, number)
            if isinstance(result, str):
                yield Contact(row, result, cells)
            else:
                yield result
        if number_column is None and any(self._reasons.values()):
            raise ContactsError(
                "no_number_column",
                f"no record has a phone number field: use one of {', '.join(NUMBER_COLUMN_ALIASES)}",
            )
        self._finish("json", "", number_column or "", list(columns))


def read_records(records: Iterable[Mapping[str, object]], default_region: str | None = None) -> RecordReader:
    """Validate the JSON API's list of contact objects; row numbers start at 1 for the first record."""
    return RecordReader(records, default_region)
