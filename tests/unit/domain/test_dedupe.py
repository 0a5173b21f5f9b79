"""The compact dedupe table behaves exactly like the dict it replaced, at a fraction of the memory."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.dedupe import NumberTable

E164_DIGITS = st.integers(1, 10**15 - 1)


@given(st.lists(st.tuples(st.one_of(E164_DIGITS, st.integers(14155550000, 14155550100)), st.integers(1, 2**32 - 1))))
def test_property_setdefault_matches_a_dict(pairs: list[tuple[int, int]]) -> None:
    # Given any sequence of numbers (many repeated) with rows
    table, reference = NumberTable(capacity_bits=2), dict[int, int]()
    # When each is stored, Then the table answers as dict.setdefault would, and holds as many numbers
    for number, row in pairs:
        assert table.setdefault(number, row) == reference.setdefault(number, row)
    assert len(table) == len(reference)


def test_consecutive_numbers_grow_the_table_and_stay_compact() -> None:
    # Given 100,000 consecutive numbers (the worst case for a weak hash), each stored twice
    table = NumberTable()
    for i in range(100_000):
        assert table.setdefault(14155550000 + i, i + 2) == i + 2
    # Then every second sighting finds the first row
    assert all(table.setdefault(14155550000 + i, 0) == i + 2 for i in range(0, 100_000, 997))
    assert len(table) == 100_000
    # And it costs at most 48 bytes per number (a dict of ints costs ~105)
    assert table.nbytes <= 48 * 100_000


@pytest.mark.parametrize("bad", [0, -1, 10**15])
def test_only_e164_digits_are_keys(bad: int) -> None:
    with pytest.raises(ValueError):
        NumberTable().setdefault(bad, 1)
