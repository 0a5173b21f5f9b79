"""CSV bytes -> text: encodings, BOMs, line endings, binary input, the record limit (read through the reader)."""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import pytest

from chalicelib.domain.contact_reader import (
    Contact,
    ContactReader,
)
from chalicelib.domain.contacts_error import ContactsError
from chalicelib.domain.csv_text import MAX_RECORD_BYTES
from tests.support.contacts import FIXTURES, code_of, contacts, errors, pieces, read

# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("size", [None, 1, 2, 3, 5, 64])
def test_utf8_without_bom_any_chunking(size: int | None) -> None:
    # Given a UTF-8 file with multi-byte names, delivered in pieces that cut characters
    data = "phone,name\n+919876543210,प्रिया\n+14155552671,José\n".encode()
    # When it is read
    items, summary = read(data, size=size)
    # Then the names survive intact and the encoding is reported
    assert [c.variables["name"] for c in contacts(items)] == ["प्रिया", "José"]
    assert summary.encoding == "utf-8"


def test_utf8_bom_is_not_part_of_the_first_header() -> None:
    # Given Excel's "CSV UTF-8" (a BOM before the number column's name)
    data = codecs.BOM_UTF8 + b"contact_number,name\n+14155552671,Asha\n"
    # When it is read
    items, summary = read(data, size=2)
    # Then the header matches without the BOM and the encoding says utf-8-sig
    assert summary.number_column == "contact_number"
    assert summary.encoding == "utf-8-sig"
    assert contacts(items)[0].number == "+14155552671"


def test_utf8_bom_fixture_with_multiline_cell_blank_row_and_duplicate() -> None:
    # Given a UTF-8 BOM file with a quoted multi-line address, an escaped quote, a blank row and a duplicate
    data = (FIXTURES / "utf8_bom_multiline.csv").read_bytes()
    # When it is read with no default region
    items, summary = read(data, size=7)
    # Then rows are counted as records (the 2-line cell is one row) and each outcome lands on its row
    first = contacts(items)[0]
    assert (first.row, first.number) == (2, "+442079460958")
    assert first.variables == {"customer_name": 'Ólafur "Óli" Arnalds', "address": "1 High St\r\nLondon"}
    assert [(e.row, e.reason) for e in errors(items)] == [(3, "blank_row"), (5, "duplicate")]
    assert errors(items)[1].message == "duplicate of row 2"
    assert (summary.total, summary.valid, summary.duplicate, summary.blank) == (3, 2, 1, 1)
    assert summary.number_column == "Contact Number"


@pytest.mark.parametrize("size", [None, 1, 3, 16])
def test_utf16_le_bom_tab_separated_excel_unicode_text(size: int | None) -> None:
    # Given Excel's "Unicode Text" export: UTF-16 LE with BOM, tab separated, CRLF
    data = (FIXTURES / "excel_unicode_text_utf16.csv").read_bytes()
    # When it is read in odd-sized pieces (cutting code units in half)
    items, summary = read(data, size=size)
    # Then the tab delimiter, the numbers and the Devanagari names all come through
    assert summary.delimiter == "\t"
    assert summary.encoding == "utf-16"
    assert [c.number for c in contacts(items)] == ["+919876543210", "+14155552671"]
    assert contacts(items)[0].variables == {"customer_name": "प्रिया", "city": "पुणे"}


@pytest.mark.parametrize(("codec", "bom"), [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)])
def test_utf16_with_bom_both_byte_orders(codec: str, bom: bytes) -> None:
    # Given the same CSV in UTF-16 of either byte order, with a BOM
    data = bom + "phone;name\r\n+44 20 7946 0958;Zoë\r\n".encode(codec)
    # When it is read
    items, summary = read(data, size=3)
    # Then it decodes, the delimiter is found, and the BOM is not in the header
    assert contacts(items) == [Contact(2, "+442079460958", {"name": "Zoë"})]
    assert summary.columns == ["phone", "name"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised_from_nul_pattern(codec: str) -> None:
    # Given UTF-16 without a BOM (every other byte NUL for ASCII text)
    data = "phone,name\n+14155552671,Ann\n".encode(codec)
    # When it is read
    items, summary = read(data, size=5)
    # Then the byte order is inferred instead of rejecting the NUL bytes as binary
    assert summary.encoding == codec
    assert [c.number for c in contacts(items)] == ["+14155552671"]


def test_cp1252_excel_semicolon_fixture() -> None:
    # Given a European Excel export: Windows-1252, semicolons, an apostrophe-prefixed number, a euro sign
    data = (FIXTURES / "excel_cp1252_semicolon.csv").read_bytes()
    # When it is read
    items, summary = read(data, size=4)
    # Then accents and the euro sign decode, and the decimal commas stay inside their cells
    assert summary.encoding == "cp1252"
    assert summary.delimiter == ";"
    names = [(c.number, c.variables["Name"], c.variables["Amount"]) for c in contacts(items)]
    assert names == [
        ("+34612345678", "José", "12,50"),
        ("+4915123456789", "Müller", "7,00"),
        ("+33612345678", "Zoë", "0,99 €"),
    ]


def test_mixed_utf8_and_cp1252_lines_each_decode() -> None:
    # Given a file stitched together from a UTF-8 and a cp1252 source
    data = b"phone,name\n+14155552671," + "José".encode() + b"\n+14155552672," + "Renée".encode("cp1252") + b"\n"
    # When it is read
    items, summary = read(data, size=3)
    # Then each line decodes on its own and the file is reported as cp1252
    assert [c.variables["name"] for c in contacts(items)] == ["José", "Renée"]
    assert summary.encoding == "cp1252"


def test_bytes_undefined_in_cp1252_are_kept_as_latin1() -> None:
    # Given a non-UTF-8 line holding one of the 5 bytes cp1252 leaves undefined
    data = b"phone,name\n+14155552671,Ab\x81c\xe9\n"
    # When it is read
    items, _ = read(data)
    # Then the row survives, the odd byte becomes its Latin-1 code point
    assert contacts(items)[0].variables["name"] == "Ab\x81cé"


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04\x14\x00\x06\x00phone,name\n",  # an .xlsx (zip) uploaded as CSV
        b"phone,name\n+14155552671,a\x00b\n",  # NUL in a later line
        b"phone\n" + bytes(range(1, 9)) * 200,  # mostly control characters
        b"phone,name\n" + b"+14155552671,ok\n" * 300 + b"\x01\x02\x03\x04\x05\x06" * 800,  # binary tail
        codecs.BOM_UTF16_LE + b"p\x00h\x00o\x00n\x00e\x00\n\x00\x00\xd8\n\x00",  # lone surrogate
        codecs.BOM_UTF16_LE + b"p\x00h\x00o",  # odd byte count
    ],
    ids=["xlsx", "nul", "controls", "binary-tail", "utf16-surrogate", "utf16-odd"],
)
def test_binary_or_broken_input_is_not_text(data: bytes) -> None:
    # Given bytes that are not a text file
    # When they are read
    # Then the whole upload is rejected as not_text
    assert code_of(pieces(data, 7)) == "not_text"


def test_not_text_is_raised_before_the_rest_is_read() -> None:
    # Given a binary upload behind a stream that must not be read past the first piece
    def stream() -> Iterator[bytes]:
        yield b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 64
        raise AssertionError("read past the first piece")

    # When iteration starts
    # Then not_text comes from the first piece alone
    with pytest.raises(ContactsError, match="binary") as caught:
        next(iter(ContactReader(stream())))
    assert caught.value.code == "not_text"


def test_dos_end_of_file_marker_is_ignored() -> None:
    # Given an old DOS-style file ending in ^Z
    items, summary = read(b"phone\r\n+14155552671\r\n\x1a")
    # Then the marker is neither an error nor a row
    assert summary.total == 1 and errors(items) == []


# --------------------------------------------------------------------------- empty input


@pytest.mark.parametrize("data", [b"", b" \r\n\t\n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n\n", b",,,\n;;\n"])
def test_empty_file(data: bytes) -> None:
    # Given no bytes, or only whitespace/separators
    # Then the upload is empty_file
    assert code_of(data) == "empty_file"
    assert code_of([]) == "empty_file"


# --------------------------------------------------------------------------- line endings and the record limit


@pytest.mark.parametrize("newline", [b"\r\n", b"\n", b"\r"])
@pytest.mark.parametrize("size", [None, 1, 2, 5])
def test_line_endings_crlf_lf_and_lone_cr(newline: bytes, size: int | None) -> None:
    # Given the same rows with each line ending, cut anywhere (including between \r and \n)
    data = newline.join([b"phone,name", b"+14155552671,A", b"+14155552672,B", b""])
    # When it is read
    items, _ = read(data, size=size)
    # Then every record is found, with no stray \r in the last cell
    assert [(c.row, c.variables["name"]) for c in contacts(items)] == [(2, "A"), (3, "B")]


def test_oversized_cell_from_unbalanced_quote_is_not_text() -> None:
    # Given an opening quote that is never closed, swallowing more than the cell limit
    data = b'phone,note\n+14155552671,"oops\n' + (b"x" * 1000 + b"\n") * (MAX_RECORD_BYTES // 1000 + 2)
    # When it is read in S3-sized pieces
    # Then it is a whole-file error, never a csv.Error escaping
    with pytest.raises(ContactsError) as caught:
        read(pieces(data, 1024))
    assert caught.value.code == "not_text" and "quote" in caught.value.message


def test_one_endless_line_is_not_text_without_holding_it_all() -> None:
    # Given a "line" that never ends (no newline at all)
    def stream() -> Iterator[bytes]:
        yield b"phone,name\n+14155552671,"
        for _ in range(10_000):
            yield b"x" * 1024

    # Then reading stops with not_text once the row passes the row limit
    assert code_of(stream()) == "not_text"


def test_endless_record_of_quoted_newlines_is_not_text() -> None:
    # Given a record that keeps going with short quoted multi-line cells
    def stream() -> Iterator[bytes]:
        yield b'phone,a\n+14155552671,"x\n'
        for _ in range(200_000):
            yield b'",b,"' + b"c" * 20 + b"\n"

    # Then it is cut off as not_text rather than growing without bound
    assert code_of(stream()) == "not_text"
