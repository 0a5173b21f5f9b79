"""Helpers for the contacts readers' tests: read bytes (cut like a network read would) and sort the results."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from chalicelib.domain.contact_reader import Contact, ContactReader, RowError, Summary
from chalicelib.domain.contacts_error import ContactsError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "csv"
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def pieces(data: bytes, size: int | None) -> list[bytes]:
    """Cut the bytes like a network read would: anywhere, mid-character and mid-line."""
    if size is None:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


def read(
    data: bytes | Iterable[bytes], region: str | None = None, size: int | None = None
) -> tuple[list[Contact | RowError], Summary]:
    chunks = pieces(data, size) if isinstance(data, bytes) else data
    reader = ContactReader(chunks, region)
    items = list(reader)
    return items, reader.summary


def contacts(items: list[Contact | RowError]) -> list[Contact]:
    return [item for item in items if isinstance(item, Contact)]


def errors(items: list[Contact | RowError]) -> list[RowError]:
    return [item for item in items if isinstance(item, RowError)]


def code_of(data: bytes | Iterable[bytes], region: str | None = None) -> str:
    with pytest.raises(ContactsError) as caught:
        read(data, region)
    return caught.value.code
