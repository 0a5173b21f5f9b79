"""Phone numbers masked to their last four digits: for the logs and for a call's timeline alike."""

from __future__ import annotations

import re

# E.164 (+ and 8-15 digits), and bare runs of 10-15 digits that are not part of a longer token.
_PHONE = re.compile(r"\+\d{8,15}|(?<![\w.:-])\d{10,15}(?![\w.:-])")


def mask_phone_numbers(text: str) -> str:
    """Keep the last four digits: enough to tell calls apart in a log, not enough to call anyone."""
    return _PHONE.sub(lambda m: ("+" if m.group().startswith("+") else "") + "*" * 6 + m.group()[-4:], text)
