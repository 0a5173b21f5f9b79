"""The readers: whole-file errors, headers and delimiters, CSV shapes, dedupe, JSON records, summaries."""

from __future__ import annotations

from collections.abc import Iterator

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.contact_reader import (
    MAX_COLUMNS,
    NUMBER_COLUMN_ALIASES,
    Contact,
    ContactReader,
    RowError,
    read_records,
)
from chalicelib.domain.contacts_error import ContactsError
from tests.support.contacts import PROPERTY, code_of, contacts, errors, pieces, read

# --------------------------------------------------------------------------- whole-file errors


@pytest.mark.parametrize("data", [b"phone,name", b"phone,name\n", b"phone,name\r\n,\r\n\r\n"])
def test_header_only_is_no_rows(data: bytes) -> None:
    # Given a header and no data records (blank ones do not count)
    # Then the upload is no_rows
    assert code_of(data) == "no_rows"


def test_missing_number_column_lists_accepted_names_and_found_headers() -> None:
    # Given a header without any number alias
    with pytest.raises(ContactsError) as caught:
        read(b"name;mobile;city\nAsha;+14155552671;Pune\n")
    # Then the message names the aliases and the headers found (split by the delimiter with most columns)
    error = caught.value
    assert error.code == "no_number_column"
    assert all(alias in error.message for alias in NUMBER_COLUMN_ALIASES)
    assert "'name', 'mobile', 'city'" in error.message


def test_no_number_column_is_raised_before_any_row() -> None:
    # Given a bad header followed by a stream that must not be read further
    def stream() -> Iterator[bytes]:
        yield b"name,email\n" + b"Ann,ann@example.com\n" * 30  # > the 512 bytes looked at for BOM/UTF-16
        raise AssertionError("read past the first piece")

    # Then no_number_column comes straight from the header
    with pytest.raises(ContactsError, match="no phone number column"):
        next(iter(ContactReader(stream())))


def test_no_valid_contacts_is_raised_by_summary_with_counts() -> None:
    # Given rows that are all unusable
    reader = ContactReader([b"phone,name\n12,a\n,b\n\n+1 415 555,c\n"], "US")
    # When iteration finishes, it yields the row errors normally
    items = list(reader)
    assert {e.reason for e in errors(items)} == {"invalid_number", "missing_number", "blank_row"}
    # Then the summary refuses, saying how many rows were what
    with pytest.raises(ContactsError) as caught:
        _ = reader.summary
    assert caught.value.code == "no_valid_contacts"
    assert "3 rows" in caught.value.message and "2 invalid numbers" in caught.value.message
    assert "1 missing number" in caught.value.message and "1 blank row" in caught.value.message


def test_no_valid_contacts_lists_the_first_rows_and_why_in_details() -> None:
    # Given a file whose rows all have a blank or an unusable number (the 4-row file)
    data = b"phone,name\n,Ann\n12,Bob\n ,Cy\n+1 415 555,Di\n"
    reader = ContactReader([data], "US")
    list(reader)
    # When the summary is asked for
    with pytest.raises(ContactsError) as caught:
        _ = reader.summary
    # Then blank numbers are called missing (not "invalid"), and details say which row failed why
    error = caught.value
    assert error.message.startswith("none of the 4 rows can be called: 2 invalid numbers, 2 missing numbers")
    assert "0 blank" not in error.message and "duplicate" not in error.message
    assert [(d["row"], d["reason"], d["value"]) for d in error.details] == [
        (2, "missing_number", ""),
        (3, "invalid_number", "12"),
        (4, "missing_number", " "),
        (5, "invalid_number", "+1 415 555"),
    ]
    assert all(d["message"] for d in error.details)


def test_no_valid_contacts_details_are_the_first_ten_rows_and_skip_blank_rows() -> None:
    # Given blank rows (not counted) and 25 rows with invalid numbers
    data = b"phone\n\n\n" + b"".join(b"%d\n" % i for i in range(25))
    reader = ContactReader([data])
    list(reader)
    with pytest.raises(ContactsError) as caught:
        _ = reader.summary
    # Then details holds the first 10 counted rows only, and the message counts the blank rows apart
    assert [d["row"] for d in caught.value.details] == list(range(4, 14))
    assert "25 invalid numbers" in caught.value.message and "2 blank rows" in caught.value.message


def test_json_records_with_no_valid_contact_give_details_too() -> None:
    reader = read_records([{"phone": "12"}, {"phone": "", "name": "a"}, {"name": "x"}])
    list(reader)
    with pytest.raises(ContactsError) as caught:
        _ = reader.summary
    assert [(d["row"], d["reason"]) for d in caught.value.details] == [
        (1, "invalid_number"),
        (2, "missing_number"),
        (3, "missing_number"),
    ]
    assert "1 invalid number, 2 missing numbers" in caught.value.message


def test_a_long_unusable_number_cell_is_shown_cut_short() -> None:
    # Given a number cell of 5,000 characters
    items, _ = read(b"phone\n" + b"9" * 5000 + b"\n+14155552671\n")
    # Then its row error shows the start of it, not all of it
    [error] = errors(items)
    assert error.reason == "invalid_number" and len(error.value) <= 101 and error.value.startswith("999")


@pytest.mark.parametrize("written", ["+14155552671 ext. 23", "+1 415 555 2671 x23", "(415) 555-2671;ext=23"])
def test_a_number_with_an_extension_is_kept_without_it_and_warned_about(written: str) -> None:
    # Given a number written with an extension, and one without
    items, summary = read(f"phone\n+14155552672\n{written}\n".encode(), "US")
    # Then the contact is kept and called at the main number (we cannot dial extensions)
    assert [(c.row, c.number) for c in contacts(items)] == [(2, "+14155552672"), (3, "+14155552671")]
    # And the summary warns, naming the row
    [warning] = summary.warnings
    assert warning["code"] == "number_extension_dropped"
    assert (warning["rows"], warning["row_count"]) == ([3], 1)
    assert "extension" in warning["message"]


def test_no_extension_no_warning_and_json_records_warn_too() -> None:
    _, summary = read(b"phone\n+14155552672\n")
    assert summary.warnings == []
    reader = read_records([{"phone": "+14155552671 ext. 9"}, {"phone": "+14155552672"}])
    list(reader)
    assert [(w["code"], w["rows"]) for w in reader.summary.warnings] == [("number_extension_dropped", [1])]


def test_summary_before_iteration_and_second_iteration_are_programming_errors() -> None:
    reader = ContactReader([b"phone\n+14155552671\n"])
    with pytest.raises(RuntimeError):
        _ = reader.summary
    list(reader)
    with pytest.raises(RuntimeError):
        iter(reader)


def test_summary_repeats_the_error_that_stopped_iteration() -> None:
    # Given an iteration that failed on a whole-file problem
    reader = ContactReader([b"name\nx\n"])
    with pytest.raises(ContactsError):
        list(reader)
    # Then the summary raises the same problem rather than a confusing RuntimeError
    with pytest.raises(ContactsError, match="no_number_column"):
        _ = reader.summary


# --------------------------------------------------------------------------- delimiters and headers


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_detected_from_header(delimiter: str) -> None:
    # Given the same file with each supported delimiter
    data = delimiter.join(["name", "phone", "city"]) + "\n" + delimiter.join(["Asha", "+14155552671", "Pune"]) + "\n"
    # When it is read
    items, summary = read(data.encode())
    # Then the delimiter is detected and cells split on it
    assert summary.delimiter == delimiter
    assert contacts(items) == [Contact(2, "+14155552671", {"name": "Asha", "city": "Pune"})]


def test_delimiter_that_reveals_the_number_column_wins_over_more_columns() -> None:
    # Given a semicolon file whose header cells contain commas (which would give more columns)
    data = b'phone;"name, full";"a,b,c"\n+14155552671;"Doe, Jane";x\n'
    # When it is read
    items, summary = read(data)
    # Then ";" is chosen because only that split shows a number column
    assert summary.delimiter == ";"
    assert contacts(items)[0].variables == {"name, full": "Doe, Jane", "a,b,c": "x"}


def test_single_column_file_defaults_to_comma() -> None:
    items, summary = read(b"phone\n+14155552671\n")
    assert summary.delimiter == "," and contacts(items)[0].variables == {}


@pytest.mark.parametrize(
    "header", ["Contact Number", " PHONE ", "phone-number", "Phone_Number", "CONTACT_NUMBER", "Phone"]
)
def test_number_header_aliases_ignore_case_spaces_and_separators(header: str) -> None:
    # Given a number column named loosely
    data = f"{header},name\n+14155552671,Ann\n".encode()
    # When it is read
    items, summary = read(data)
    # Then it is recognised, and reported as written (trimmed)
    assert summary.number_column == header.strip()
    assert contacts(items)[0].number == "+14155552671"


def test_alias_order_decides_between_several_number_columns() -> None:
    # Given both a "phone" and a "contact_number" column
    data = b"phone,Contact Number\n+14155552671,+919876543210\n"
    # When it is read
    items, summary = read(data)
    # Then contact_number wins (alias order), and phone stays a variable
    assert summary.number_column == "Contact Number"
    assert contacts(items) == [Contact(2, "+919876543210", {"phone": "+14155552671"})]


def test_duplicate_and_empty_header_names_are_made_unique() -> None:
    # Given repeated and empty header names
    data = b"name,phone,name,,name_2\nA,+14155552671,B,C,D\n"
    # When it is read
    items, summary = read(data)
    # Then every column keeps its value under a unique name
    assert summary.columns == ["name", "phone", "name_2", "column_4", "name_2_2"]
    assert contacts(items)[0].variables == {"name": "A", "name_2": "B", "column_4": "C", "name_2_2": "D"}


# --------------------------------------------------------------------------- CSV shapes


def test_quotes_escaped_quotes_and_quoted_newlines() -> None:
    # Given quoted cells with delimiters, doubled quotes and newlines
    data = b'phone,note\n"+1 415 555 2671","say ""hi"", then\nhang up"\n+14155552672,"a,b"\n'
    # When it is read
    items, _ = read(data, size=3)
    # Then cells are whole and row numbers count records, not physical lines
    assert contacts(items) == [
        Contact(2, "+14155552671", {"note": 'say "hi", then\nhang up'}),
        Contact(3, "+14155552672", {"note": "a,b"}),
    ]


def test_ragged_rows_pad_missing_cells_and_name_extra_ones() -> None:
    # Given rows shorter and longer than the header
    data = b"phone,name,city\n+14155552671\n+14155552672,B,C,extra,more\n"
    # When it is read
    items, _ = read(data)
    # Then missing cells are "" and extra cells get positional names
    assert [c.variables for c in contacts(items)] == [
        {"name": "", "city": ""},
        {"name": "B", "city": "C", "column_4": "extra", "column_5": "more"},
    ]


def test_number_column_missing_from_a_short_row_is_missing_number() -> None:
    items, _ = read(b"name,phone\nAnn\n+1 nope,+14155552671\n")
    assert [(e.row, e.reason) for e in errors(items)] == [(2, "missing_number")]


def test_variables_are_passed_through_untouched() -> None:
    # Given cells with surrounding spaces and odd content
    data = b'phone,name,code\n +14155552671 ,"  Ann  ",007\n'
    # When it is read
    items, _ = read(data)
    # Then only the number cell is cleaned
    assert contacts(items) == [Contact(2, "+14155552671", {"name": "  Ann  ", "code": "007"})]


def test_blank_rows_are_reported_but_not_counted_and_empty_number_is_missing() -> None:
    # Given blank records of several kinds and one with data but no number
    data = b"phone,name\n\n,\n \t, \n,Ann\n+14155552671,Bob\n"
    # When it is read
    items, summary = read(data)
    # Then blanks are blank_row (not in total) and the named row is missing_number
    assert [(e.row, e.reason, e.value) for e in errors(items)] == [
        (2, "blank_row", ""),
        (3, "blank_row", ""),
        (4, "blank_row", ""),
        (5, "missing_number", ""),
    ]
    assert (summary.total, summary.valid, summary.invalid, summary.blank) == (2, 1, 1, 3)


def test_leading_blank_lines_before_header_still_count_as_rows() -> None:
    # Given two empty lines above the header (rows 1-2), so the header is row 3
    items, _ = read(b"\n,,\nphone\n+14155552671\n")
    # Then the first contact is on spreadsheet row 4
    assert contacts(items)[0].row == 4


def test_many_extra_cells_are_named_quickly_and_too_many_is_refused() -> None:
    # Given rows far wider than the header
    wide = b"phone\n+14155552671," + b"x," * 1000 + b"\n"
    widest = b"phone\n+14155552671," + b"," * (MAX_COLUMNS + 5) + b"\n"
    # Then up to the cap every cell is kept; past it the file is refused rather than exploding in memory
    items, _ = read(wide)
    assert len(contacts(items)[0].variables) == 1001
    assert code_of(widest) == "too_many_columns"
    assert code_of(b"," * (MAX_COLUMNS + 5) + b"phone\n+14155552671\n") == "too_many_columns"


def test_reader_is_lazy() -> None:
    # Given a stream that tracks how far it was read
    consumed: list[int] = []

    def stream() -> Iterator[bytes]:
        yield b"phone\n"
        for i in range(1000):
            consumed.append(i)
            yield b"+1415555%04d\n" % (2000 + i)

    # When only the first contact is taken
    first = next(iter(ContactReader(stream())))
    # Then only the start of the stream was read (the 512 bytes looked at for a BOM, and a line)
    assert isinstance(first, Contact) and len(consumed) < 60


# --------------------------------------------------------------------------- dedupe


def test_dedupe_on_e164_across_spellings() -> None:
    # Given the same number written three ways
    data = b"phone,n\n+91 98765 43210,a\n098765-43210,b\n+14155552671,c\n919876543210,d\n"
    # When it is read with region IN
    items, summary = read(data, "IN")
    # Then later occurrences are duplicates pointing at the first row
    assert [(e.row, e.reason, e.value, e.message) for e in errors(items)] == [
        (3, "duplicate", "098765-43210", "duplicate of row 2"),
        (5, "duplicate", "919876543210", "duplicate of row 2"),
    ]
    assert (summary.total, summary.valid, summary.duplicate) == (4, 2, 2)


# --------------------------------------------------------------------------- JSON records


def test_read_records_validates_like_the_csv() -> None:
    # Given JSON records with different alias keys, non-string values and None
    records: list[dict[str, object]] = [
        {"contact_number": "+14155552671", "customer_name": "Asha", "age": 31},
        {"Phone Number": 919876543210, "customer_name": None},
        {"phone": "+1 415 555 2671"},
        {"customer_name": "no number"},
        {"phone": "  ", "customer_name": ""},
    ]
    # When they are validated with region IN
    reader = read_records(records, "IN")
    items = list(reader)
    # Then rows count from 1, values are strings, and errors match the CSV rules
    assert contacts(items) == [
        Contact(1, "+14155552671", {"customer_name": "Asha", "age": "31"}),
        Contact(2, "+919876543210", {"customer_name": ""}),
    ]
    assert [(e.row, e.reason) for e in errors(items)] == [(3, "duplicate"), (4, "missing_number"), (5, "blank_row")]
    summary = reader.summary
    assert (summary.total, summary.valid, summary.invalid, summary.duplicate, summary.blank) == (4, 2, 1, 1, 1)
    assert (summary.encoding, summary.delimiter, summary.number_column) == ("json", "", "contact_number")
    assert summary.columns == ["contact_number", "customer_name", "age", "Phone Number", "phone"]


@pytest.mark.parametrize(
    ("records", "code"),
    [([], "no_rows"), ([{}, {"a": None}], "no_rows"), ([{"name": "x"}], "no_number_column")],
)
def test_read_records_whole_input_errors(records: list[dict[str, object]], code: str) -> None:
    with pytest.raises(ContactsError) as caught:
        list(read_records(records))
    assert caught.value.code == code


def test_read_records_non_object_record_is_a_row_error() -> None:
    items = list(read_records([{"phone": "+14155552671"}, "oops"]))  # type: ignore[list-item]
    assert errors(items) == [RowError(2, "missing_number", "", "the record is not an object")]


def test_read_records_keys_are_trimmed_and_made_unique_like_csv_headers() -> None:
    items = list(read_records([{" phone ": "+14155552671", "name": "a", " name": "b", "": "c"}]))
    assert items == [Contact(1, "+14155552671", {"name": "a", "name_2": "b", "column_4": "c"})]


def test_read_records_no_valid_contacts() -> None:
    reader = read_records([{"phone": "12"}])
    list(reader)
    with pytest.raises(ContactsError, match="no_valid_contacts"):
        _ = reader.summary


# --------------------------------------------------------------------------- properties


REGIONS = st.sampled_from([None, "US", "IN", "xx"])
CSV_ALPHABET = st.sampled_from(
    [b",", b";", b"\t", b'"', b"\n", b"\r", b"\r\n", b" ", b"+", b"'", b"0", b"1", b"4", b"9", b"5", b".", b"-", b"E",
     b"phone", b"contact_number", b"name", b"\xe9", b"\xc3\xa9", b"\xef\xbb\xbf", b"\x00", b"\x1a", b"\xff\xfe"]
)  # fmt: skip
ANY_BYTES = st.one_of(st.binary(max_size=600), st.lists(CSV_ALPHABET, max_size=120).map(b"".join))


@PROPERTY
@given(data=ANY_BYTES, region=REGIONS, size=st.integers(1, 64))
def test_property_any_bytes_complete_or_contacts_error(data: bytes, region: str | None, size: int) -> None:
    # Given any bytes at all, cut anywhere, and any region option
    # When they are read to the end and summarised
    # Then the only exception that can escape is ContactsError
    try:
        reader = ContactReader(pieces(data, size), region)
        items = list(reader)
        summary = reader.summary
    except ContactsError:
        return
    assert summary.valid + summary.invalid + summary.duplicate == summary.total
    assert len(items) == summary.total + summary.blank


NUMBER_CELLS = st.one_of(
    st.sampled_from(["+14155552671", "+1 (415) 555-2672", "'+91 98765 43210", "098765 43210", "0044 20 7946 0958",
                     "9.19876543210E+11", "12345", "", " ", "n/a", "+91-98765-43210", "+999 1"]),
    st.text(alphabet="0123456789+-() .", max_size=18),
)  # fmt: skip
CONTROLS_BUT_LINE_BREAKS = "".join(chr(c) for c in [*range(32), *range(127, 160)] if chr(c) not in "\t\r\n")
CELLS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters=CONTROLS_BUT_LINE_BREAKS), max_size=12)


@PROPERTY
@given(
    rows=st.lists(st.tuples(NUMBER_CELLS, CELLS, CELLS), max_size=25),
    region=st.sampled_from([None, "US", "IN"]),
    size=st.integers(1, 50),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_property_counts_add_up_and_contacts_are_e164(
    rows: list[tuple[str, str, str]], region: str | None, size: int, delimiter: str
) -> None:
    # Given a well-formed CSV of arbitrary cells (quoted by csv rules), cut into pieces
    def quote(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"'

    body = "".join(delimiter.join(map(quote, row)) + "\r\n" for row in rows)
    data = (delimiter.join(["phone", "name", "note"]) + "\r\n" + body).encode()
    try:
        reader = ContactReader(pieces(data, size), region)
        items = list(reader)
        summary = reader.summary
    except ContactsError as exc:
        assert exc.code in {"no_rows", "no_valid_contacts"}
        return
    # Then counts add up, every contact is a valid, unique E.164 number, and cells are untouched
    assert summary.valid + summary.invalid + summary.duplicate == summary.total
    found = contacts(items)
    assert len(found) == summary.valid
    assert len({c.number for c in found}) == len(found)
    for contact in found:
        assert contact.number.startswith("+") and contact.number[1:].isdigit()
        assert phonenumbers.is_valid_number(phonenumbers.parse(contact.number, None))
        assert contact.variables == {"name": rows[contact.row - 2][1], "note": rows[contact.row - 2][2]}
    # And the same bytes in one piece give the same answer
    assert list(ContactReader([data], region)) == items
