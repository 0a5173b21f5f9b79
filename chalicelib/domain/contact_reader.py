"""Contacts in, callable contacts out: CSV bytes (or the JSON API's records) -> validated E.164 contacts,
per-row errors, warnings and a summary.

Pure Python (stdlib + phonenumbers) so the API, the workers and the tests share one set of rules.
It streams: neither the file nor the contacts are ever held whole; only the dedupe table grows.
The number rules are in numbers.py, the bytes -> text decoding in csv_text.py.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .contacts_error import ContactsError
from .csv_text import CsvText, allow_fields_up_to_the_record_limit, is_blank_line
from .dedupe import NumberTable
from .json_input import JsonObject
from .numbers import EmptyNumber, InvalidNumber, check_region, parse_number

__all__ = [
    "NUMBER_COLUMN_ALIASES",
    "Contact",
    "ContactReader",
    "RecordReader",
    "RowError",
    "Summary",
    "read_records",
]

NUMBER_COLUMN_ALIASES: tuple[str, ...] = ("contact_number", "phone_number", "phone")

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
_DELIMITERS = (",", ";", "\t")
_ALIAS_RANK = {"".join(filter(str.isalnum, alias)): rank for rank, alias in enumerate(NUMBER_COLUMN_ALIASES)}
_NO_ALIAS = len(NUMBER_COLUMN_ALIASES)


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

    def as_dict(self) -> JsonObject:
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
    warnings: list[JsonObject] = field(default_factory=list)  # rows kept with a change: like template warnings


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
        self._region = check_region(default_region)
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

    def _number(self, row: int, raw: str) -> tuple[str, str] | RowError:
        """The number rule both readers apply: (E.164, extension), or the row's error, counted."""
        try:
            return parse_number(raw, self._region)
        except EmptyNumber as exc:
            return self._skip(RowError(row, "missing_number", _shown(raw), str(exc)))
        except InvalidNumber as exc:
            return self._skip(RowError(row, "invalid_number", _shown(raw), str(exc)))

    def _first(self, row: int, raw: str, e164: str, extension: str) -> RowError | None:
        """None for a number's first occurrence (counted as valid), else the duplicate's error."""
        first = self._seen.setdefault(int(e164[1:]), row)
        if first != row:
            return self._skip(RowError(row, "duplicate", _shown(raw), f"duplicate of row {first}"))
        self._valid += 1
        if extension:
            self._extension_dropped(row)
        return None

    def _blank_row(self, row: int) -> RowError:
        self._blank += 1
        return RowError(row, "blank_row", "", "blank row")

    def __iter__(self) -> Iterator[Contact | RowError]:
        if self._started:
            raise RuntimeError(f"a {type(self).__name__} can be iterated only once")
        self._started = True
        return self._run()

    def _run(self) -> Iterator[Contact | RowError]:
        """The rows, keeping the error that stopped them for `summary` to raise again."""
        try:
            yield from self._rows()
        except ContactsError as exc:
            self._error = exc
            raise
        except csv.Error as exc:  # not expected: csv's field limit is the record limit, checked first
            self._error = ContactsError("not_text", f"cannot read the CSV: {exc}")
            raise self._error from None

    def _rows(self) -> Iterator[Contact | RowError]:
        raise NotImplementedError

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

    def _warnings(self) -> list[JsonObject]:
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


@dataclass(frozen=True)
class _Header:
    """Where the contacts start: the reader past the header row, and what the header said."""

    reader: Iterator[list[str]]
    row: int  # the header's spreadsheet row
    delimiter: str
    number_column: str  # as written
    names: list[str]  # unique variable names, one per column
    number_index: int
    names_bytes: int  # of every name but the number's


class ContactReader(_Validator):
    """Streams contacts out of CSV bytes with bounded memory."""

    def __init__(self, chunks: Iterable[bytes], default_region: str | None = None):
        super().__init__(default_region)
        self._text = CsvText([chunks] if isinstance(chunks, (bytes, bytearray)) else chunks)

    def _header(self) -> _Header:
        """Skip leading blank lines (they still count as spreadsheet rows), sniff the delimiter, read the names."""
        text = self._text
        lines = text.lines()
        row = 0
        for line in lines:
            row += 1
            text.record_bytes = 0
            if not is_blank_line(line):
                break
        else:
            raise ContactsError("empty_file", "the file is empty")
        allow_fields_up_to_the_record_limit()
        delimiter = _sniff_delimiter(line)
        reader = csv.reader(itertools.chain((line,), lines), delimiter=delimiter, strict=False)
        written = [_clean_header(cell) for cell in next(reader, [])]
        if len(written) > MAX_COLUMNS:
            raise _too_many_columns(row)
        num_idx = _number_column(written)
        used: set[str] = set()
        names = [_unique(name or f"column_{i}", used) for i, name in enumerate(written, 1)]
        return _Header(reader, row, delimiter, written[num_idx], names, num_idx, _check_names(names, num_idx))

    def _rows(self) -> Iterator[Contact | RowError]:  # noqa: C901 - the per-row loop, inlined for speed (bench/csv_validation.py)
        text = self._text
        header = self._header()
        reader, row, names = header.reader, header.row, header.names
        num_idx, header_bytes = header.number_index, header.names_bytes
        num_key, width = names[num_idx], len(names)
        for fields in reader:
            row += 1
            size, text.record_bytes = text.record_bytes, 0  # this record's bytes (UTF-8): >= its values'
            n = len(fields)
            raw = fields[num_idx] if n > num_idx else ""
            if not raw.strip() and not any(map(str.strip, fields)):
                yield self._blank_row(row)
                continue
            number = self._number(row, raw)
            if isinstance(number, RowError):
                yield number
                continue
            if size > MAX_CELL_CHARS or n > width:  # cheap test first: short rows cannot break a limit
                if n > MAX_COLUMNS:
                    raise _too_many_columns(row)
                values = fields[:num_idx] + fields[num_idx + 1 :]
                problem = _oversized(row, raw, values, header_bytes + _EXTRA_NAME_BYTES * max(0, n - width))
                if problem is not None:
                    yield self._skip(problem)
                    continue
            duplicate = self._first(row, raw, *number)
            if duplicate is not None:
                yield duplicate
                continue
            variables = dict(zip(names, fields, strict=False))  # ragged rows fixed below
            if n != width:
                if n < width:
                    variables.update(dict.fromkeys(names[n:], ""))
                else:
                    taken = set(variables)
                    for i in range(width, n):
                        variables[_unique(f"column_{i + 1}", taken)] = fields[i]
            del variables[num_key]
            yield Contact(row, number[0], variables)
        self._finish(text.encoding, header.delimiter, header.number_column, names)


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

    def _rows(self) -> Iterator[Contact | RowError]:  # noqa: C901 - the per-record loop, inlined for speed
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
            checked = self._number(row, number)
            if isinstance(checked, RowError):
                yield checked
                continue
            duplicate = self._first(row, number, *checked)
            if duplicate is not None:
                yield duplicate
                continue
            yield Contact(row, checked[0], cells)
        if number_column is None and any(self._reasons.values()):
            raise ContactsError(
                "no_number_column",
                f"no record has a phone number field: use one of {', '.join(NUMBER_COLUMN_ALIASES)}",
            )
        self._finish("json", "", number_column or "", list(columns))


def read_records(records: Iterable[Mapping[str, object]], default_region: str | None = None) -> RecordReader:
    """Validate the JSON API's list of contact objects; row numbers start at 1 for the first record."""
    return RecordReader(records, default_region)
