"""An agent's extraction schema (dispositions): the fields a voice agent is asked to fill after each call.

Declared once on the agent, sent with every HTTP call request (in Bolna's or Bland's shape), used to
check what the provider reports as `extracted_data`, and to count each categorical field's answers on
the batch. A value that does not fit its field is kept as reported and flagged in `extraction_errors`,
never dropped: the answer a campaign exists to collect is the customer's, not ours to discard.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict

from .bounds import Text, unique
from .json_input import JsonObject

FieldType = Literal["category", "boolean", "number", "text"]
FIELD_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
MAX_FIELDS = 20
MAX_CHOICES = 20
# What a provider's report may hold: beyond these bounds a value is cut (and flagged), so an execution
# item stays far below DynamoDB's 400 KB and a CSV cell below a spreadsheet's limits.
MAX_REPORTED_KEYS = 50
MAX_TEXT_CHARS = 2000
MAX_SUMMARY_CHARS = 4000
TALLY_PREFIX = "xb#"  # a batch attribute `xb#<field>#<value>` counts one answer (an atomic ADD, like execution_status)

Choice = Annotated[str, Field(min_length=1, max_length=100)]


class ExtractionField(BaseModel):
    """One question asked of every call: its answer's name, type, allowed values (categories) and meaning."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(..., pattern=FIELD_NAME, description="The key in `extracted_data` and the CSV column.")
    type: FieldType = Field("text", description="`category` (one of `values`), `boolean`, `number` or `text`.")
    values: list[Choice] | None = Field(
        None, min_length=1, max_length=MAX_CHOICES, description="The allowed answers of a `category` field."
    )
    description: Text | None = Field(None, max_length=500, description="What the voice agent should fill in.")

    @field_validator("values")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return unique(value)

    @model_validator(mode="after")
    def _values_for_categories(self) -> ExtractionField:
        if self.type == "category" and not self.values:
            raise ValueError(f"category field {self.name!r} needs its allowed `values`")
        if self.type != "category" and self.values:
            raise ValueError(f"only a category field takes `values` ({self.name!r} is {self.type})")
        return self


ExtractionSchema = Annotated[list[ExtractionField], Field(max_length=MAX_FIELDS)]


class StoredField(TypedDict):
    """An ExtractionField as an agent item holds it (`parse_schema` makes the model again)."""

    name: str
    type: NotRequired[FieldType]  # absent when the default (`text`): ExtractionField is stored without defaults
    values: NotRequired[list[str] | None]
    description: NotRequired[str | None]


class ExtractionError(TypedDict):
    """A reported value that does not fit its field (kept in extracted_data all the same)."""

    field: str | None  # the extracted_data key; None when the whole report is unusable
    value: Any  # as reported, text cut to 200 characters
    message: str


def check_schema(fields: list[ExtractionField] | None) -> list[ExtractionField] | None:
    """Field names are unique: each is one key of `extracted_data` and one CSV column."""
    if fields is not None:
        names = [f.name for f in fields]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"extraction field names must be unique: {', '.join(repeated)}")
    return fields


def parse_schema(raw: list[StoredField] | None) -> list[ExtractionField]:
    """The schema as stored on an agent (a list of dicts), or [] when it declares none."""
    return [ExtractionField.model_validate(item) for item in raw or []]


def is_tallied(field: ExtractionField) -> bool:
    """Fields whose answers the batch counts: a bounded set of values."""
    return field.type in ("category", "boolean")


def checked(
    schema: list[ExtractionField], reported: Any
) -> tuple[JsonObject | None, list[ExtractionError], dict[str, int]]:
    """What a provider reported, kept; the problems with it; and the batch tallies it adds.

    Returns (extracted_data, extraction_errors, tallies). Nothing reported is (None, [], {}).
    """
    if reported is None:
        return None, [], {}
    if isinstance(reported, str):
        try:
            reported = json.loads(reported)
        except ValueError:
            return {"_raw": reported[:MAX_TEXT_CHARS]}, [_error(None, reported[:200], "not a JSON object")], {}
    if not isinstance(reported, dict):
        text = json.dumps(reported, ensure_ascii=False)[:MAX_TEXT_CHARS]
        return {"_raw": text}, [_error(None, text[:200], "not a JSON object")], {}
    declared = {f.name: f for f in schema}
    data: JsonObject = {}
    errors: list[ExtractionError] = []
    tallies: dict[str, int] = {}
    for index, (key, value) in enumerate(reported.items()):
        key = str(key)[:64]
        if index >= MAX_REPORTED_KEYS:
            errors.append(_error(None, None, f"more than {MAX_REPORTED_KEYS} keys: the rest were not kept"))
            break
        value = bounded(value)
        data[key] = value
        spec = declared.get(key)
        if spec is None or value is None:
            continue
        problem = _problem(spec, value)
        if problem:
            errors.append(_error(key, value, problem))
        elif is_tallied(spec):
            tallies[tally_key(key, _tally_value(value))] = 1
    return data, errors, tallies


def _problem(spec: ExtractionField, value: Any) -> str | None:
    if spec.type == "category":
        return None if isinstance(value, str) and value in (spec.values or []) else "not one of the allowed values"
    if spec.type == "boolean":
        return None if isinstance(value, bool) else "not true or false"
    if spec.type == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "not a number"
    return None if isinstance(value, str) else "not text"


def bounded(value: Any) -> Any:
    """A reported value as stored: text cut to MAX_TEXT_CHARS, nested values as (cut) JSON text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):  # what DynamoDB cannot store (1e-300, 1e200, nan) is kept as text
        storable = math.isfinite(value) and (value == 0 or 1e-100 < abs(value) < 1e100)
        return value if storable else str(value)
    if isinstance(value, str):
        return value[:MAX_TEXT_CHARS]
    return json.dumps(value, ensure_ascii=False)[:MAX_TEXT_CHARS]


def _error(field: str | None, value: Any, message: str) -> ExtractionError:
    return {"field": field, "value": value if not isinstance(value, str) else value[:200], "message": message}


def _tally_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def tally_key(field: str, value: str) -> str:
    return f"{TALLY_PREFIX}{field}#{value}"


def breakdown(attributes: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """The batch's `extraction_breakdown` (`{"interested": {"yes": 34, "no": 51}}`) from its tally attributes."""
    shown: dict[str, dict[str, int]] = {}
    for name, count in sorted(attributes.items()):
        if name.startswith(TALLY_PREFIX) and count:
            field, _, value = name[len(TALLY_PREFIX) :].partition("#")
            shown.setdefault(field, {})[value] = int(count)
    return shown


def summary_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text[:MAX_SUMMARY_CHARS]


# What each field asks for, in words, for voice agents that take an extraction prompt rather than a schema.
def prompt(schema: list[ExtractionField]) -> str:
    lines = ["After the call, return a JSON object with these keys:"]
    for spec in schema:
        kind = f"one of {', '.join(repr(v) for v in spec.values or [])}" if spec.type == "category" else spec.type
        lines.append(f"- {spec.name} ({kind})" + (f": {spec.description}" if spec.description else ""))
    return "\n".join(lines)


BLAND_TYPES = {"category": "string", "boolean": "boolean", "number": "number", "text": "string"}


def request_fields(schema: list[ExtractionField], shape: str) -> JsonObject:
    """The extraction part of an HTTP call request.

    `bolna`: `extraction_prompt` (the questions in words, as Bolna's agents take them) and
    `extraction_schema` (the declared fields as JSON). `bland`: Bland's `analysis_schema`
    (`{name: type}`), `dispositions` (every category's allowed values) and a `summary_prompt`.
    """
    if not schema:
        return {}
    if shape == "bland":
        dispositions = [v for spec in schema if spec.type == "category" for v in spec.values or []]
        fields: JsonObject = {
            "analysis_schema": {spec.name: BLAND_TYPES[spec.type] for spec in schema},
            "summary_prompt": "Summarise the call in two sentences.",
        }
        if dispositions:
            fields["dispositions"] = list(dict.fromkeys(dispositions))
        return fields
    return {
        "extraction_prompt": prompt(schema),
        "extraction_schema": [spec.model_dump(exclude_none=True) for spec in schema],
    }
