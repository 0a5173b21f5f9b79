"""Every setting the service reads is in the README's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_has_a_row_in_the_readme() -> None:
    documented = set(re.findall(r"^\| `([A-Z_]+)`", README.read_text(encoding="utf-8"), re.MULTILINE))
    read = {field.alias for field in Settings.model_fields.values()}
    assert read - documented == set()
