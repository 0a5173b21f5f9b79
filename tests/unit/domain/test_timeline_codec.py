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
