"""An agent's extraction schema: bounded, sent in Bolna's and Bland's shapes; what comes back is kept and checked."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.domain import extraction
from chalicelib.domain.agents import AgentCreate
from chalicelib.domain.extraction import ExtractionField, breakdown, checked, parse_schema, request_fields
from chalicelib.domain.simulation import simulate_answers

SCHEMA = parse_schema(
    [
        {"name": "interested", "type": "category", "values": ["yes", "no", "maybe"], "description": "Wants it?"},
        {"name": "booked", "type": "boolean"},
        {"name": "budget", "type": "number"},
        {"name": "callback_day", "type": "text"},
    ]
)


@pytest.mark.parametrize(
    "schema",
    [
        [{"name": "interested", "type": "category"}],  # a category without its values
        [{"name": "booked", "type": "boolean", "values": ["x"]}],  # values on a non-category
        [{"name": "a", "type": "text"}, {"name": "a", "type": "number"}],  # the same name twice
        [{"name": "has space", "type": "text"}],
        [{"name": "x", "type": "date"}],
        [{"name": "c", "type": "category", "values": ["yes", "yes"]}],
        [{"name": f"f{i}"} for i in range(extraction.MAX_FIELDS + 1)],
        [{"name": "c", "type": "category", "values": [str(i) for i in range(extraction.MAX_CHOICES + 1)]}],
    ],
)
def test_an_unusable_schema_is_refused_with_the_agent(schema: list[dict[str, Any]]) -> None:
    with pytest.raises(ValidationError):
        AgentCreate.model_validate({"name": "a", "extraction_schema": schema})


def test_a_report_is_kept_whole_and_each_misfit_is_flagged_not_dropped() -> None:
    # Given a report with a category outside its values, a boolean as text and an undeclared key
    reported = {"interested": "perhaps", "booked": "yes", "budget": 250, "callback_day": "Friday", "mood": "calm"}
    data, errors, tallies = checked(SCHEMA, reported)
    # Then every value is kept as reported
    assert data == reported
    # And the two misfits are flagged, by field
    assert {(e["field"], e["value"]) for e in errors} == {("interested", "perhaps"), ("booked", "yes")}
    # And only valid categorical answers count (none here: both were misfits)
    assert tallies == {}


def test_valid_categorical_answers_count_on_the_batch() -> None:
    _, errors, tallies = checked(SCHEMA, {"interested": "yes", "booked": False, "budget": 3.5})
    assert errors == []
    assert tallies == {"xb#interested#yes": 1, "xb#booked#false": 1}
    assert breakdown({"xb#interested#yes": 34, "xb#interested#no": 51, "xb#booked#false": 2, "status": "x"}) == {
        "booked": {"false": 2},
        "interested": {"no": 51, "yes": 34},
    }


@pytest.mark.parametrize(
    ("reported", "kept"),
    [
        ('{"interested": "no"}', {"interested": "no"}),  # JSON text, as some agents send it
        ("not json", {"_raw": "not json"}),
        ([1, 2], {"_raw": "[1, 2]"}),
    ],
)
def test_a_report_that_is_not_an_object_is_kept_as_text_and_flagged(reported: Any, kept: dict[str, Any]) -> None:
    data, errors, _ = checked(SCHEMA, reported)
    assert data == kept
    assert (errors == []) == (kept == {"interested": "no"})


def test_reports_are_bounded_to_what_an_execution_item_can_hold() -> None:
    # Given a report with huge text, a number DynamoDB cannot store, nested values and too many keys
    reported: dict[str, Any] = {"callback_day": "x" * 10_000, "budget": 1e-300, "nested": {"a": [1, 2]}}
    reported.update({f"k{i}": i for i in range(100)})
    data, errors, _ = checked(SCHEMA, reported)
    assert data is not None
    assert len(data) == extraction.MAX_REPORTED_KEYS and len(data["callback_day"]) == extraction.MAX_TEXT_CHARS
    assert data["budget"] == "1e-300" and data["nested"] == '{"a": [1, 2]}'
    # And the cut and the misfit are said
    assert {e["field"] for e in errors} == {"budget", None}


def test_nothing_reported_is_null() -> None:
    assert checked(SCHEMA, None) == (None, [], {})


def test_bolna_shape_sends_the_questions_in_words_and_as_json() -> None:
    fields = request_fields(SCHEMA, "bolna")
    assert set(fields) == {"extraction_prompt", "extraction_schema"}
    assert "- interested (one of 'yes', 'no', 'maybe'): Wants it?" in fields["extraction_prompt"]
    assert fields["extraction_schema"][0] == {
        "name": "interested",
        "type": "category",
        "values": ["yes", "no", "maybe"],
        "description": "Wants it?",
    }


def test_bland_shape_sends_analysis_schema_dispositions_and_a_summary_prompt() -> None:
    fields = request_fields(SCHEMA, "bland")
    assert fields["analysis_schema"] == {
        "interested": "string",
        "booked": "boolean",
        "budget": "number",
        "callback_day": "string",
    }
    assert fields["dispositions"] == ["yes", "no", "maybe"]
    assert fields["summary_prompt"]


def test_no_schema_sends_nothing() -> None:
    assert request_fields([], "bolna") == {} == request_fields([], "bland")


def test_the_simulator_fills_every_field_plausibly_and_the_same_way_for_the_same_seed() -> None:
    runs = [simulate_answers(7, f"call-{i}", SCHEMA) for i in range(200)]
    assert runs == [simulate_answers(7, f"call-{i}", SCHEMA) for i in range(200)]
    for answers, summary in runs:
        assert answers is not None and summary
        data, errors, _ = checked(SCHEMA, answers)
        assert errors == [] and set(data or {}) == {"interested", "booked", "budget", "callback_day"}
    # And the answers vary across calls (every category value turns up)
    assert {answers["interested"] for answers, _ in runs if answers} == {"yes", "no", "maybe"}
    assert simulate_answers(8, "call-0", SCHEMA) != runs[0] or simulate_answers(8, "call-1", SCHEMA) != runs[1]


def test_a_schema_field_needs_no_more_than_a_name() -> None:
    assert ExtractionField.model_validate({"name": "notes"}).type == "text"
