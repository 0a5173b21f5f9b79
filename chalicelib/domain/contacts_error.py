"""The error that makes a whole contacts input unusable (a file, an upload or the JSON list)."""

from __future__ import annotations

from .json_input import JsonObject


class ContactsError(Exception):
    """The whole input is unusable -> the API answers 400 with this code and message."""

    def __init__(self, code: str, message: str, details: list[JsonObject] | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or []  # `no_valid_contacts`: the first rows' errors, as in the errors report

    def __reduce__(self) -> tuple[type[ContactsError], tuple[str, str, list[JsonObject]]]:
        return type(self), (self.code, self.message, self.details)
