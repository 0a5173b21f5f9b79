"""A compact set of phone numbers for deduplication: 24-48 bytes per number instead of a dict's ~105.

Ingesting a million-row file must not hold a million Python ints in a dict. An E.164 number has at
most 15 digits, so its digits *as an integer* (< 10**15 < 2**50) are themselves a 64-bit key: the
table stores the exact number, not a hash of it, so two different numbers can never be taken for
one another (no collisions to reason about, unlike a table of 64-bit hashes, where a false
duplicate among a million numbers would have a probability of about n**2 / 2**65 ~ 3e-8).
"""

from __future__ import annotations

from array import array

_GOLDEN = 0x9E3779B97F4A7C15  # Fibonacci hashing: spreads consecutive numbers over the table
_MASK = (1 << 64) - 1
_MAX_KEY = 10**15  # E.164: at most 15 digits


class NumberTable:
    """Open addressing with linear probing over two flat arrays: keys (`Q`, 0 = empty) and first rows (`I`).

    Kept at most half full, so it costs 24-48 bytes per number (an 8-byte key and a
    4-byte row, times 1 / load: 24 B at 1M numbers in a 2**21 table); it doubles when half full
    (the copy briefly needs 1.5 x). Rows are below 2**32.
    """

    __slots__ = ("_bits", "_keys", "_rows", "_size")

    def __init__(self, capacity_bits: int = 10) -> None:
        self._size = 0
        self._bits, self._keys, self._rows = _empty(capacity_bits)

    def __len__(self) -> int:
        return self._size

    def setdefault(self, number: int, row: int) -> int:
        """Like dict.setdefault: the row stored for `number`, storing `row` if the number is new."""
        if not 0 < number < _MAX_KEY:
            raise ValueError(f"not the digits of an E.164 number: {number}")
        keys, mask = self._keys, (1 << self._bits) - 1
        slot = ((number * _GOLDEN) & _MASK) >> (64 - self._bits)
        while True:
            found = keys[slot]
            if found == number:
                return int(self._rows[slot])
            if found == 0:
                break
            slot = (slot + 1) & mask
        keys[slot] = number
        self._rows[slot] = row
        self._size += 1
        if self._size * 2 > len(keys):
            self._grow()
        return row

    def _grow(self) -> None:
        old_keys, old_rows = self._keys, self._rows
        self._bits, self._keys, self._rows = _empty(self._bits + 1)
        for number, row in zip(old_keys, old_rows, strict=True):
            if number:
                self._put_new(number, row)

    def _put_new(self, number: int, row: int) -> None:
        keys, mask = self._keys, (1 << self._bits) - 1
        slot = ((number * _GOLDEN) & _MASK) >> (64 - self._bits)
        while keys[slot]:
            slot = (slot + 1) & mask
        keys[slot] = number
        self._rows[slot] = row

    @property
    def nbytes(self) -> int:
        return len(self._keys) * self._keys.itemsize + len(self._rows) * self._rows.itemsize


def _empty(bits: int) -> tuple[int, array[int], array[int]]:
    return bits, array("Q", bytes(8 << bits)), array("I", bytes(4 << bits))
