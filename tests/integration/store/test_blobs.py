"""Contact chunks: what the ingest writes is what the dispatcher and the plan read back."""

from __future__ import annotations

from chalicelib.domain.records import StoredContact
from chalicelib.services.container import Dependencies


def test_a_chunk_reads_back_exactly_even_with_unicode_line_breaks_in_a_value(deps: Dependencies) -> None:
    # Given contacts whose variables hold characters Python counts as line breaks (U+2028, U+2029, NEL, \\x1c)
    # but JSON writes as they are
    contacts: list[StoredContact] = [
        {"i": 0, "row": 2, "n": "+442079460001", "v": {"note": "first\u2028second\u2029third\x85fourth"}},
        {"i": 1, "row": 3, "n": "+12025550100", "v": {"note": "a\x1cb\nc\r\nd"}, "z": "America/New_York"},
    ]
    # When a chunk of them is stored and read back
    deps.blobs.put_chunk("batch-1", 0, contacts)
    # Then every contact comes back whole, in order
    assert deps.blobs.read_chunk("batch-1", 0) == contacts
