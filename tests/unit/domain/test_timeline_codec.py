"""A timeline entry packed for the execution item reads back exactly as it was written."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain import timeline
from chalicelib.domain.timeline import Entry
from chalicelib.domain.timeline_codec import pack, unpack

AT = "2026-11-30T19:31:31.601Z"


def entries() -> list[Entry]:
    ended = {
        "hangup_reason": "call ended by user",
        "conversation_duration": 30.0,
        "answered_by_voice_mail": False,
        "provider_call_id": "sim-3bf1",
        "provider": "simulator",
    }
    with timeline.acting_as(timeline.Component.PROVIDER_EVENT):
        completed = timeline.status_change("in-progress", "completed", ended, AT)
    return [
        timeline.created("queued", 1, AT),
        timeline.created("canceled", 2, AT, "the batch was stopped"),
        timeline.status_change("queued", "initiated", {}, AT),
        completed,
        timeline.provider_request("twilio", "+14155550123", "+14155550100", 1, AT),
        timeline.provider_answer("twilio", "rate_limited: slow down; again in 5 s", AT),
    ]


@pytest.mark.parametrize("entry", entries(), ids=lambda e: f"{e['type']}-{e.get('status')}")
def test_every_kind_of_entry_reads_back_as_written_and_smaller(entry: Entry) -> None:
    packed = pack(entry)
    assert unpack(packed) == entry and list(unpack(packed)) == list(entry)  # same keys, same order
    assert len(packed) < len(json.dumps(entry, separators=(",", ":")))


@pytest.mark.parametrize(
    "entry",
    [
        # values that look like the codes, or like an elided summary, are kept as they are
        {"created_at": AT, "type": "s", "component": "=d", "data": "x"},
        {"created_at": "2026-11-30T19:31:31Z", "type": "status", "component": "api", "data": "a -> b", "status": "b"},
        {
            "created_at": "not a time",
            "type": "status",
            "component": "d",
            "data": "q -> i",
            "status": "i",
            "previous_status": "q",
            "details": {"h": 1, "=c": 2, "provider_call_id": "c"},
        },
    ],
)
def test_unusual_values_are_kept_verbatim(entry: Entry) -> None:
    assert unpack(pack(entry)) == entry


def test_an_answered_call_s_entries_take_a_third_of_their_text_form() -> None:
    # Given an answered call's seven entries as the previous release packed them (JSON text, 629 bytes)
    old = [
        '[1796094978584,"s","p","attempt 1 queued","queued"]',
        '[1796094978631,"s","d",0,"initiated","queued"]',
        '[1796094978678,"q","d","place call 1: to +******0100 from +******0147",null,null,"simulator"]',
        '[1796094978678,"r","d","accepted: call id sim-aec939470b25e46014c538f4",null,null,"simulator"]',
        '[1796094978749,"s","e",0,"ringing","initiated","simulator",{"c":"sim-aec939470b25e46014c538f4"}]',
        '[1796094978759,"s","e",0,"in-progress","ringing","simulator",{"c":"sim-aec939470b25e46014c538f4"}]',
        '[1796094978790,"s","e",0,"completed","in-progress","simulator",'
        '{"h":"call ended by user","d":30.0,"v":false,"c":"sim-aec939470b25e46014c538f4"}]',
    ]
    # When they are read (an item written before) and packed again
    entries = [unpack(text) for text in old]
    packed = [pack(entry) for entry in entries]
    # Then they read the same from either form, and the binary form is a third of the text's size
    assert [unpack(p) for p in packed] == entries
    assert entries[4]["details"] == {"provider_call_id": "sim-aec939470b25e46014c538f4"}
    assert entries[1]["data"] == "queued -> initiated" and entries[0]["created_at"] == "2026-12-01T03:16:18.584Z"
    assert sum(map(len, packed)) * 3 < sum(map(len, old)), sum(map(len, packed))


def test_a_time_clock_iso_did_not_write_is_kept_in_the_binary_form_too() -> None:
    entry: Entry = {"created_at": "2026-11-30T19:31:31+00:00", "type": "request", "component": "dialer", "data": "x"}
    assert isinstance(pack(entry), bytes) and unpack(pack(entry)) == entry
