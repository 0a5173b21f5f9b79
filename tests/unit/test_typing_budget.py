"""The core stays typed (issue 14): at most 30 `dict[str, Any]` annotations in chalicelib/.

Records, messages and answers have models or TypedDicts; what is left open is named by an alias where the
value is genuinely open JSON (`JsonObject`, the store's `Fields`/`Request`/`Wire`, the OpenAPI `Spec`), and
each alias's own definition counts once here, however often it is used.
"""

from __future__ import annotations

import re
from pathlib import Path

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"
MAX_OPEN_DICTS = 30
OPEN_DICT = re.compile(r"\b(?:typing\.)?[Dd]ict\[\s*str\s*,\s*(?:typing\.)?Any\s*\]")


def open_dicts(text: str) -> int:
    return len(OPEN_DICT.findall(text))


def test_the_pattern_counts_every_spelling() -> None:
    # Given the spellings an annotation may take, when counted, then each is one
    assert open_dicts("a: dict[str, Any]; b: Dict[str, Any]; c: typing.Dict[str, typing.Any]; d: dict[str,Any]") == 4
    assert open_dicts("e: dict[str, int]; f: JsonObject; g: Mapping[str, Any]") == 0


def test_chalicelib_has_at_most_thirty_open_dict_annotations() -> None:
    found = {
        str(path.relative_to(CHALICELIB)): n
        for path in sorted(CHALICELIB.rglob("*.py"))
        if (n := open_dicts(path.read_text()))
    }
    total = sum(found.values())
    assert total <= MAX_OPEN_DICTS, (
        f"{total} dict[str, Any] annotations in chalicelib (at most {MAX_OPEN_DICTS}): {found}"
    )
