"""Placeholders in both spellings are filled per contact; unusable ones are reported with row numbers."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.templates import MAX_ROWS_LISTED, TemplateCheck, fill, placeholders


@dataclass
class Row:
    row: int
    variables: dict[str, str]


def test_single_and_double_braces_are_both_placeholders() -> None:
    text = "Hi {{ customer_name }}, your {plan} plan renews on {{renewal date}}."
    values = {"customer_name": "Asha", "plan": "gold", "renewal date": "1 May"}
    assert fill(text, values) == "Hi Asha, your gold plan renews on 1 May."
    assert placeholders(text) == ["customer_name", "plan", "renewal date"]


def test_json_and_stray_braces_are_not_placeholders() -> None:
    text = 'Say {"a": 1} and {} and {{}} and {1x}'
    assert placeholders(text) == []
    assert fill(text, {"a": "z"}) == text


def test_a_placeholder_without_a_column_is_reported_once_for_every_source() -> None:
    # Given an agent whose welcome message and prompt both use {plan}, and a file with no plan column
    check = TemplateCheck({"welcome_message": "Hi {name}, about {plan}", "prompt": "Sell {{plan}}"})
    rows = [Row(2, {"name": "A"}), Row(3, {"name": "B"})]
    # When the contacts stream past the check
    assert list(check.watch(rows)) == rows
    # Then one warning names the placeholder, where it is used and every row
    [warning] = check.warnings(["phone", "name"])
    assert warning["code"] == "placeholder_without_column"
    assert warning["placeholder"] == "plan"
    assert warning["in"] == ["welcome_message", "prompt"]
    assert warning["rows"] == [2, 3] and warning["row_count"] == 2


def test_blank_values_are_reported_with_their_rows_and_the_list_is_capped() -> None:
    check = TemplateCheck({"welcome_message": "Hi {name}"})
    rows = [Row(i + 2, {"name": "" if i % 2 else "X"}) for i in range(2 * MAX_ROWS_LISTED + 10)]
    list(check.watch(rows))
    [warning] = check.warnings(["phone", "name"])
    assert warning["code"] == "placeholder_blank"
    assert warning["row_count"] == MAX_ROWS_LISTED + 5
    assert warning["rows"][:3] == [3, 5, 7] and len(warning["rows"]) == MAX_ROWS_LISTED


def test_no_warning_when_every_row_has_every_value() -> None:
    check = TemplateCheck({"welcome_message": "Hi {name}", "prompt": None})
    list(check.watch([Row(2, {"name": "A"})]))
    assert check.warnings(["name"]) == []
