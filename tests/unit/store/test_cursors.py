"""Pagination cursors: a cursor works only on the listing, batch and filter that issued it, unaltered."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.settings import Settings
from chalicelib.store.cursors import MAX_CURSOR_CHARS, Cursors, InvalidCursor, KeyShape, cursor_key
from chalicelib.store.executions import PAGE_KEY as EXECUTIONS
from chalicelib.store.webhook_deliveries import PAGE_KEY as DELIVERIES

CURSORS = Cursors(cursor_key(Settings()))
SCOPE = {"batch_id": "b1", "status": ""}
LAST = {"batch_id": {"S": "b1"}, "seq": {"S": "000000007#01"}, "execution_id": {"S": "e7"}}


def issued() -> str:
    cursor = CURSORS.encode(EXECUTIONS, SCOPE, LAST)
    assert cursor is not None
    return cursor


def test_a_cursor_round_trips_to_the_key_it_was_made_from() -> None:
    assert CURSORS.decode(EXECUTIONS, SCOPE, issued()) == LAST


def test_the_last_page_has_no_cursor_and_no_cursor_means_the_first_page() -> None:
    assert CURSORS.encode(EXECUTIONS, SCOPE, None) is None
    assert CURSORS.decode(EXECUTIONS, SCOPE, None) is None
    assert CURSORS.decode(EXECUTIONS, SCOPE, "") is None


def test_a_cursor_is_opaque_no_wire_form_key_shows() -> None:
    assert '"S"' not in base64.urlsafe_b64decode(issued().split(".")[0] + "==").decode()


def test_an_altered_key_is_refused() -> None:
    body, tag = issued().split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["seq"] = "000000001#01"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    with pytest.raises(InvalidCursor):
        CURSORS.decode(EXECUTIONS, SCOPE, f"{forged}.{tag}")


def test_an_altered_signature_is_refused() -> None:
    body, tag = issued().split(".")
    flipped = ("A" if tag[0] != "A" else "B") + tag[1:]
    with pytest.raises(InvalidCursor):
        CURSORS.decode(EXECUTIONS, SCOPE, f"{body}.{flipped}")


@pytest.mark.parametrize(
    ("shape", "scope"),
    [
        (DELIVERIES, {"batch_id": "b1"}),  # an executions cursor on the webhook log
        (EXECUTIONS, {"batch_id": "b2", "status": ""}),  # another batch
        (EXECUTIONS, {"batch_id": "b1", "status": "completed"}),  # another filter
    ],
)
def test_a_cursor_from_another_listing_batch_or_filter_is_refused(shape: KeyShape, scope: dict[str, str]) -> None:
    with pytest.raises(InvalidCursor):
        CURSORS.decode(shape, scope, issued())


def test_a_cursor_signed_with_another_key_is_refused() -> None:
    theirs = Cursors(cursor_key(Settings(CURSOR_SECRET="someone else's")))
    with pytest.raises(InvalidCursor):
        theirs.decode(EXECUTIONS, SCOPE, issued())


@pytest.mark.parametrize(
    "cursor",
    [
        "nope",
        "a.b.c",
        "!!!.###",
        ".",
        "x" * (MAX_CURSOR_CHARS + 1),
        # the old format: base64 of DynamoDB's wire form, trusted as it came
        base64.urlsafe_b64encode(json.dumps({"batch_id": {"ZZ": "x"}}).encode()).decode(),
    ],
)
def test_garbage_and_oversized_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as caught:
        CURSORS.decode(EXECUTIONS, SCOPE, cursor)
    assert caught.value.code == "invalid_cursor" and caught.value.status == 400


@pytest.mark.parametrize(
    "key",
    [
        {**LAST, "extra": {"S": "x"}},  # an unknown attribute
        {"batch_id": {"S": "b1"}, "seq": {"S": "1"}},  # one missing
        {**LAST, "seq": {"S": "x" * 2000}},  # longer than a key can be
        {**LAST, "batch_id": {"S": "b2"}},  # another batch's key, though signed for this one
    ],
)
def test_a_signed_cursor_must_still_have_exactly_the_listings_key(key: dict[str, dict[str, str]]) -> None:
    # Given a cursor signed for this listing but holding a key of another shape
    wider = KeyShape(EXECUTIONS.listing, {name: "S" for name in key})
    cursor = CURSORS.encode(wider, SCOPE, key)
    # Then it is refused all the same
    with pytest.raises(InvalidCursor):
        CURSORS.decode(EXECUTIONS, SCOPE, cursor)


def test_a_signed_cursor_holding_a_nested_value_is_refused() -> None:
    nested = {**LAST, "seq": {"S": {"S": "1"}}}
    with pytest.raises(InvalidCursor):
        CURSORS.decode(EXECUTIONS, SCOPE, CURSORS.encode(EXECUTIONS, SCOPE, nested))


def test_numbers_in_a_key_must_be_finite_numbers() -> None:
    shape = KeyShape("numbers", {"n": "N"})
    assert CURSORS.decode(shape, {}, CURSORS.encode(shape, {}, {"n": {"N": "12"}})) == {"n": {"N": "12"}}
    for bad in ("NaN", "Infinity", "twelve"):
        with pytest.raises(InvalidCursor):
            CURSORS.decode(shape, {}, CURSORS.encode(shape, {}, {"n": {"N": bad}}))
