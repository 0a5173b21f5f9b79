"""Fill `{customer_name}`-style placeholders from a contact's columns, never failing on user text."""

from __future__ import annotations

import string
from collections.abc import Mapping

_FORMATTER = string.Formatter()


def fill(template: str, values: Mapping[str, str]) -> str:
    """Unknown placeholders stay as written; braces that are not placeholders are kept."""
    out: list[str] = []
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:  # unbalanced braces: the text is not a template
        return template
    for literal, field, _spec, _conv in parsed:
        out.append(literal)
        if field is None:
            continue
        if field in values:
            out.append(str(values[field]))
        else:
            out.append("{" + field + "}")
    return "".join(out)
