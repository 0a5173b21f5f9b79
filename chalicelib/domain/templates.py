"""Per-contact text: `{column}` and `{{column}}` placeholders filled from a contact's columns.

Filling never fails on user text (an unknown placeholder stays as written), so a bad template
cannot crash a call; instead `TemplateCheck` reports, when the batch is created, every
placeholder that has no column or is blank on some rows, with the row numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from .json_input import JsonObject
from .records import Agent

# `{{ name }}` first, so `{{name}}` is not read as `{` + `{name}` + `}`.
# A name starts with a letter or `_` and holds word characters, spaces, dots and dashes (CSV headers).
_NAME = r"[^\W\d][\w .-]{0,63}?"
_PLACEHOLDER = re.compile(r"\{\{\s*(" + _NAME + r")\s*\}\}|\{\s*(" + _NAME + r")\s*\}")
MAX_ROWS_LISTED = 100

T = TypeVar("T")


def _name(match: re.Match[str]) -> str:
    return (match.group(1) or match.group(2)).strip()


def placeholders(template: str) -> list[str]:
    """The placeholder names in order of first appearance."""
    return list(dict.fromkeys(_name(m) for m in _PLACEHOLDER.finditer(template or "")))


def fill(template: str, values: Mapping[str, str]) -> str:
    """Unknown placeholders stay as written; braces that are not placeholders are kept."""

    def one(match: re.Match[str]) -> str:
        name = _name(match)
        return str(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(one, template or "")


@dataclass
class _Blanks:
    rows: list[int] = field(default_factory=list)
    count: int = 0


class TemplateCheck:
    """Watches contacts stream past (no second pass over the file) and reports unusable placeholders."""

    def __init__(self, templates: Mapping[str, str | None]) -> None:
        self._where: dict[str, list[str]] = {}
        for source, text in templates.items():
            for name in placeholders(text or ""):
                self._where.setdefault(name, []).append(source)
        self._blanks = {name: _Blanks() for name in self._where}

    @classmethod
    def for_agent(cls, agent: Agent) -> TemplateCheck:
        return cls({"welcome_message": agent.welcome_message, "prompt": agent.prompt})

    def watch(self, items: Iterable[T]) -> Iterator[T]:
        """Pass items through unchanged, noting contacts whose value for a placeholder is missing or blank."""
        names = list(self._where)
        for item in items:
            variables = getattr(item, "variables", None)
            if names and isinstance(variables, Mapping):
                for name in names:
                    if not str(variables.get(name) or "").strip():
                        blanks = self._blanks[name]
                        blanks.count += 1
                        if len(blanks.rows) < MAX_ROWS_LISTED:
                            blanks.rows.append(int(getattr(item, "row", 0)))
            yield item

    def warnings(self, columns: Iterable[str]) -> list[JsonObject]:
        known = set(columns)
        out: list[JsonObject] = []
        for name, sources in self._where.items():
            blanks = self._blanks[name]
            if name not in known:
                message = f"placeholder {{{name}}} in the agent's {' and '.join(sources)} matches no column"
                code = "placeholder_without_column"
            elif blanks.count:
                message = f"placeholder {{{name}}} is blank on {blanks.count} row(s); it is left as written there"
                code = "placeholder_blank"
            else:
                continue
            out.append(
                {
                    "code": code,
                    "placeholder": name,
                    "in": sources,
                    "message": message,
                    "rows": blanks.rows,
                    "row_count": blanks.count,
                }
            )
        return out
