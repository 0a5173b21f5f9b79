"""The documented limits on a contacts file: each gives a clear code, per row or for the whole file."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest

from chalicelib.domain.contact_reader import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_CONTACT_BYTES,
    MAX_HEADER_BYTES,
    MAX_NAME_CHARS,
    ContactReader,
    read_records,
)
from chalicelib.domain.contacts_error import ContactsError
from chalicelib.domain.csv_text import MAX_RECORD_BYTES
from tests.support.contacts import code_of, contacts, errors, read


def test_a_cell_over_the_limit_skips_only_its_row_and_frees_its_number() -> None:
    # Given a row whose note is one character too long, then the same number with a short note
    data = (
        "phone,note\n"
        f"+14155552671,{'x' * (MAX_CELL_CHARS + 1)}\n"
        "+14155552671,short\n"
        f"+14155552672,{'y' * MAX_CELL_CHARS}\n"
    ).encode()
    # When it is read
    items, summary = read(data)
    # Then the long row is skipped with its reason, the number is not a duplicate later, the limit itself is fine
    [error] = errors(items)
    assert (error.row, error.reason) == (2, "cell_too_long")
    assert [(c.row, c.number) for c in contacts(items)] == [(3, "+14155552671"), (4, "+14155552672")]
    assert (summary.valid, summary.invalid, summary.duplicate) == (2, 1, 0)


@pytest.mark.parametrize("quoted", [False, True])
@pytest.mark.parametrize("size", [1_100_000, MAX_RECORD_BYTES - 100])
def test_a_cell_of_any_length_up_to_the_record_limit_skips_only_its_row(quoted: bool, size: int) -> None:
    # Given a 1.1 MB cell (over the 1 MiB csv field limit of old), or one just under the 2 MiB record limit
    cell = "x" * size
    written = '"' + cell + '"' if quoted else cell
    data = f"phone,note\n+14155552671,{written}\n+14155552672,short\n".encode()
    # When it is read in S3-sized pieces
    items, summary = read(data, size=1 << 16)
    # Then only that row is skipped, as the limits table says, and the file is read to the end
    assert [(e.row, e.reason) for e in errors(items)] == [(2, "cell_too_long")]
    assert [c.row for c in contacts(items)] == [3]
    assert (summary.valid, summary.invalid) == (1, 1)


def test_a_long_cell_spanning_quoted_lines_skips_only_its_row() -> None:
    # Given a quoted note of 1.5 MB written over many lines
    note = "line of notes\n" * 100_000
    data = f'phone,note\n+14155552671,"{note}"\n+14155552672,short\n'.encode()
    items, _ = read(data, size=1 << 16)
    assert [(e.row, e.reason) for e in errors(items)] == [(2, "cell_too_long")]
    assert [c.row for c in contacts(items)] == [3]


def test_a_record_over_the_limit_says_so_truthfully() -> None:
    # Given a quoted cell over many lines that makes the record larger than 2 MiB
    def stream() -> Iterator[bytes]:
        yield b'phone,note\n+14155552671,"start\n'
        for _ in range(MAX_RECORD_BYTES // 1000 + 10):
            yield b"x" * 999 + b"\n"
        yield b'end"\n'

    # Then the file fails naming the record limit, not csv's internal field limit
    with pytest.raises(ContactsError) as caught:
        read(stream())
    assert caught.value.code == "not_text"
    assert "2 MiB" in caught.value.message and "field limit" not in caught.value.message


def test_a_reader_works_even_if_other_code_lowered_the_process_wide_csv_limit() -> None:
    # Given some other code in the process that set csv's (process-wide) field limit back to its default
    saved = csv.field_size_limit()
    csv.field_size_limit(128 * 1024)
    try:
        # When a file with a 200 KB cell is read
        items, _ = read(b"phone,note\n+14155552671," + b"x" * 200_000 + b"\n+14155552672,ok\n")
    finally:
        csv.field_size_limit(max(saved, csv.field_size_limit()))
    # Then the long cell still skips only its row
    assert [e.reason for e in errors(items)] == ["cell_too_long"]


def test_a_row_whose_cells_together_are_too_large_is_skipped() -> None:
    # Given cells each under the cell limit that together exceed the contact limit
    cells = MAX_CONTACT_BYTES // MAX_CELL_CHARS + 1
    data = (
        "phone,"
        + ",".join(f"c{i}" for i in range(cells))
        + "\n+14155552671,"
        + ",".join(["z" * MAX_CELL_CHARS] * cells)
        + "\n+14155552672\n"
    ).encode()
    items, summary = read(data)
    assert [e.reason for e in errors(items)] == ["row_too_large"]
    assert summary.valid == 1


def test_multibyte_cells_are_counted_in_bytes_for_the_row_and_characters_for_the_cell() -> None:
    # Given a cell of MAX_CELL_CHARS three-byte characters: within the cell limit, 24 KiB of bytes
    data = ("phone,a,b\n+14155552671," + "€" * MAX_CELL_CHARS + "," + "€" * MAX_CELL_CHARS + "\n").encode()
    # Then the row is too large in bytes (48 KiB > 32 KiB), not a too-long cell, and no contact is left
    reader = ContactReader([data])
    assert [getattr(i, "reason", None) for i in reader] == ["row_too_large"]
    assert code_of(data) == "no_valid_contacts"


@pytest.mark.parametrize(
    "header",
    [
        "phone," + "n" * (MAX_NAME_CHARS + 1),
        'phone,"bad\x01name"',
        "phone," + ",".join(f"{i:0{MAX_NAME_CHARS - 1}d}x" for i in range(MAX_HEADER_BYTES // MAX_NAME_CHARS + 1)),
    ],
)
def test_unusable_column_names_refuse_the_file(header: str) -> None:
    assert code_of((header + "\n+14155552671\n").encode()) == "invalid_header"


def test_a_long_first_row_without_a_number_column_says_so_rather_than_blaming_the_names() -> None:
    assert code_of(("x" * 500 + ",y\n+14155552671,a\n").encode()) == "no_number_column"


def test_json_records_follow_the_same_limits() -> None:
    # Given JSON contacts: a long cell, a bad name, too many fields
    items = list(
        read_records([{"phone": "+14155552671", "note": "x" * (MAX_CELL_CHARS + 1)}, {"phone": "+14155552672"}])
    )
    assert [getattr(i, "reason", None) for i in items] == ["cell_too_long", None]
    for records, code in (
        ([{"phone": "+14155552671", "n" * (MAX_NAME_CHARS + 1): "a"}], "invalid_header"),
        ([{"phone": "+14155552671", **{f"k{i}": "" for i in range(MAX_COLUMNS + 1)}}], "too_many_columns"),
    ):
        with pytest.raises(ContactsError) as exc:
            list(read_records(records))
        assert exc.value.code == code
