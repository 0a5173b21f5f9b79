"""Which of the batch's caller IDs calls a recipient.

Round-robin by contact, preferring numbers of the recipient's own country: a local
caller ID is answered more often and some carriers block foreign ones. With no number
of that country, the rotation runs over all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=4096)
def country_code(e164: str) -> int:
    try:
        return int(phonenumbers.parse(e164, None).country_code or 0)
    except phonenumbers.NumberParseException:
        return 0


def pick_caller_id(numbers: Sequence[str], recipient: str, index: int) -> str | None:
    if not numbers:
        return None
    wanted = country_code(recipient)
    local = [n for n in numbers if country_code(n) == wanted]
    pool = local or list(numbers)
    return pool[index % len(pool)]
