"""A call's timeline entries: attributed to the worker that wrote them, small, and free of phone numbers."""

from __future__ import annotations

from chalicelib.domain import timeline
from chalicelib.domain.timeline import Component, acting_as


def test_entries_name_the_component_that_wrote_them_and_default_to_the_api() -> None:
    assert timeline.created("queued", 1, "2026-11-30T10:00:00.000Z")["component"] == "api"
    with acting_as(Component.SWEEPER):
        entry = timeline.status_change("initiated", "error", {"error_message": "never reported"}, "t")
    assert entry["component"] == "sweeper" and entry["details"] == {"error_message": "never reported"}
    assert timeline.status_change("queued", "initiated", {}, "t")["component"] == "api"  # reset on leaving


def test_texts_are_masked_and_bounded() -> None:
    # Given a provider answer quoting the number and a very long message
    answer = timeline.provider_answer("twilio", "The 'To' number +12025550100 is invalid. " + "x" * 5000, "t")
    request = timeline.provider_request("http", "+919876543210", "+12025550147", 2, "t")
    # Then no full number is kept, and no text exceeds MAX_TEXT characters
    assert "+12025550100" not in answer["data"] and "+******0100" in answer["data"]
    assert len(answer["data"]) == timeline.MAX_TEXT
    assert request["data"] == "place call 2: to +******3210 from +******0147"
    change = timeline.status_change("initiated", "failed", {"error_message": "9" * 12 + " busy " + "y" * 999}, "t")
    assert len(change["details"]["error_message"]) == timeline.MAX_TEXT
    assert "999999999999" not in change["details"]["error_message"]


def test_the_public_entry_has_every_field_and_its_attempt() -> None:
    entry = timeline.public_entry(timeline.created("queued", 2, "t"), "e2", 2)
    assert set(entry) == {*timeline.PUBLIC_FIELDS, "execution_id", "attempt"}
    assert entry["provider"] is None and entry["details"] == {} and entry["attempt"] == 2
