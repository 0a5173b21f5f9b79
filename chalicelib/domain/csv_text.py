"""CSV bytes -> text lines: the encoding (UTF-8, BOM, UTF-16 with or without BOM, Excel's cp1252 per line),
line splitting that keeps endings (csv needs them for quoted newlines), binary detection and the record limit.

It streams: a piece may end anywhere (mid-character, between \\r and \\n); only one record is ever held.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterable, Iterator

from .contacts_error import ContactsError

__all__ = ["MAX_RECORD_BYTES", "CsvText", "allow_fields_up_to_the_record_limit", "is_blank_line"]

MAX_RECORD_BYTES = 2 << 20  # one record (a line, or lines joined by quoted newlines): bounds memory
_SNIFF_BYTES = 512  # enough to spot a BOM or the NUL pattern of BOM-less UTF-16
_CONTROL_WINDOW = 4096  # control characters are judged per window so a binary tail is still caught
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13)) + b"\x7f"
_BLANK_LINE_CHARS = " \t\r\n\x0b\x0c\xa0\ufeff,;"


def allow_fields_up_to_the_record_limit() -> None:
    """csv's field limit (1 MiB by default here, 128 KiB in CPython) would fail the whole file on one long
    cell; our own record limit comes first, so a long cell can skip only its row (`cell_too_long`).

    The limit is process-wide: it is only ever raised (concurrent readers all set the same value, so
    threads cannot undo each other), and checked per reader in case other code lowered it since import.
    """
    if csv.field_size_limit() < MAX_RECORD_BYTES:
        csv.field_size_limit(MAX_RECORD_BYTES)


allow_fields_up_to_the_record_limit()


def _latin1_for_undefined(exc: UnicodeError) -> tuple[str, int]:
    """cp1252 leaves 5 bytes undefined; keep them as their Latin-1 code points rather than reject the row."""
    assert isinstance(exc, UnicodeDecodeError)
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


codecs.register_error("contacts.latin1", _latin1_for_undefined)


def is_blank_line(line: str) -> bool:
    """A line with nothing but spaces and delimiters (a spreadsheet's empty row)."""
    return not line.strip(_BLANK_LINE_CHARS)


class CsvText:
    """Decoded lines of CSV bytes, and what was learnt on the way: the encoding, the current record's size."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self._encoding = "utf-8"
        self._fell_back = False  # some line was not UTF-8 and was read as cp1252
        self.record_bytes = 0  # bytes decoded since the reader last reset it (at each record's start)

    @property
    def encoding(self) -> str:
        return "cp1252" if self._fell_back else self._encoding

    def lines(self) -> Iterator[str]:
        """Decoded lines with their endings kept, so csv sees quoted newlines and record ends.

        Reads the head at once: an empty or binary file fails here, before any line is handed out.
        """
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

    def _split(self, chunks: Iterator[bytes]) -> Iterator[str]:  # noqa: C901 - one pass per line of the file, inlined for speed
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
        self.record_bytes += len(line)
        if self.record_bytes > MAX_RECORD_BYTES:
            raise _too_long()
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self._fell_back = True  # per line, so a file mixing UTF-8 and Excel's cp1252 still reads
            return line.decode("cp1252", "contacts.latin1")


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
