"""Ingest's half of the suppression rule: a contact on the tenant's do-not-call list is skipped when the
batch is created, reported as a row error (`suppressed`) and counted (`suppressed_contacts`).

The dialer's claim checks again at call time (number_guard.py): this pass only keeps numbers that are
already suppressed out of the batch, and costs nothing for a tenant that never suppressed a number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..domain.contact_reader import Contact, RowError
from ..store.numbers import BATCH_GET, NumberStore

SUPPRESSED_MESSAGE = "the number is on the do-not-call list (GET /suppressions/{number})"


class SkipSuppressed:
    """The reader's rows in order, with suppressed contacts turned into `suppressed` row errors.

    Looks numbers up BATCH_GET (100) contacts at a time, holding at most that many rows back.
    """

    def __init__(self, numbers: NumberStore, tenant_id: str, rows: Iterable[Contact | RowError]) -> None:
        self._numbers = numbers
        self._tenant_id = tenant_id
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Contact | RowError]:
        if not self._numbers.has_any(self._tenant_id):
            yield from self._rows
            return
        held: list[Contact | RowError] = []
        contacts = 0
        for row in self._rows:
            held.append(row)
            contacts += isinstance(row, Contact)
            if contacts == BATCH_GET:
                yield from self._checked(held)
                held, contacts = [], 0
        yield from self._checked(held)

    def _checked(self, rows: list[Contact | RowError]) -> Iterator[Contact | RowError]:
        numbers = [row.number for row in rows if isinstance(row, Contact)]
        suppressed = self._numbers.suppressed_among(self._tenant_id, numbers) if numbers else set()
        for row in rows:
            if isinstance(row, Contact) and row.number in suppressed:
                self.count += 1
                yield RowError(row.row, "suppressed", row.number, SUPPRESSED_MESSAGE)
            else:
                yield row
