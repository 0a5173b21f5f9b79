"""Untrusted JSON: depth is bounded without recursing, and text that cannot be stored is named by its path."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.json_input import MAX_DEPTH, JsonInputError, depth, loads


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_depth_counts_arrays_and_objects_but_not_brackets_inside_strings() -> None:
    assert depth('{"a": [1, {"b": "[[[["}]}') == 3
    assert depth('"[[[[[[\\"[["') == 0
    assert depth("1") == 0


def test_json_as_deep_as_the_limit_parses_and_one_level_more_is_refused() -> None:
    assert loads(nested(MAX_DEPTH)) is not None
    with pytest.raises(JsonInputError, match="deeper than 32"):
        loads(nested(MAX_DEPTH + 1))


def test_a_hundred_thousand_open_brackets_are_refused_without_recursing() -> None:
    with pytest.raises(JsonInputError):
        loads(b"[" * 100_000)


def test_lone_surrogates_are_named_by_path_in_values_and_keys() -> None:
    with pytest.raises(JsonInputError) as value:
        loads(json.dumps({"contacts": [{"ok": "x"}, {"name": "\ud800"}]}))
    assert value.value.field == "contacts.1.name"
    with pytest.raises(JsonInputError) as key:
        loads(json.dumps({"contacts": [{"\udfff": "x"}]}))
    assert key.value.field == "contacts.0"
    assert "\udfff" not in key.value.message  # the message itself must be encodable


def test_a_form_field_holding_json_is_named_in_what_it_reports() -> None:
    with pytest.raises(JsonInputError) as caught:
        loads(nested(40), field="retry_config")
    assert caught.value.field == "retry_config"


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', "-Infinity", "{", b"\xff"])
def test_what_is_not_json_is_refused(text: str | bytes) -> None:
    with pytest.raises(JsonInputError):
        loads(text)


def test_valid_unicode_passes_untouched() -> None:
    assert loads('{"name": "Ravi \\u0930\\u0935\\u093f \\ud83d\\ude00"}') == {"name": "Ravi रवि 😀"}
