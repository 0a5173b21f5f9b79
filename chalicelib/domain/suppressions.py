"""The do-not-call list: what an entry is, and the rules a request to add one must meet.

A number is normalised exactly as a batch contact is (`numbers.parse_number`), so the list and the
batches always compare the same E.164 strings. An entry with an `expires_at` in the past no longer
suppresses: it is as if it were not there (reads answer 404, the claim and ingest ignore it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .bounds import Text
from .numbers import InvalidNumber, parse_number

MAX_NUMBERS_PER_REQUEST = 10_000  # one synchronous request; a bigger list is several requests (or CSV files)
MAX_REASON_CHARS = 500
MAX_EXPIRY = timedelta(days=3660)  # keeps date arithmetic on it (the item's TTL) far from datetime's limits


class SuppressionSource(StrEnum):
    API = "api"  # POST /suppressions with JSON
    CSV = "csv"  # POST /suppressions with a CSV file
    CALL_OPT_OUT = "call_opt_out"  # the person said so during a call (a provider event's opt_out)
    PROVIDER = "provider"  # a carrier's or provider's do-not-call report, sent through the API


class Suppression(BaseModel):
    """One entry, as stored and as answered (full numbers are the tenant's own data: never logged)."""

    model_config = ConfigDict(extra="ignore")

    number: str
    reason: str | None = None
    source: SuppressionSource
    added_by: str | None = Field(None, description="The label of the API key that added it (none for opt-outs).")
    created_at: str
    expires_at: str | None = None
    execution_id: str | None = Field(None, description="For `call_opt_out`: the call the person opted out in.")

    def active(self, now_iso: str) -> bool:
        return self.expires_at is None or self.expires_at > now_iso


class SuppressionOptions(BaseModel):
    """What every number of one request shares (the form fields beside a CSV `file`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Text | None = Field(None, max_length=MAX_REASON_CHARS, description="Why, for people.")
    expires_at: str | None = Field(
        None, max_length=64, description="ISO 8601 with an offset; after it the number may be called again."
    )
    default_region: str | None = Field(
        None, max_length=2, description="ISO country code for numbers written without a country code."
    )


class SuppressionRequest(SuppressionOptions):
    """`POST /suppressions` as JSON: one `number` or many `numbers`, with one reason and expiry for all."""

    number: str | None = Field(None, max_length=200, description="One number (E.164, or national with default_region).")
    numbers: list[str] | None = Field(
        None, min_length=1, max_length=MAX_NUMBERS_PER_REQUEST, description="Many numbers, same rules as `number`."
    )
    source: SuppressionSource = Field(
        SuppressionSource.API, description="`api` (default) or `provider` (a provider's do-not-call report)."
    )

    @field_validator("source")
    @classmethod
    def _source(cls, value: SuppressionSource) -> SuppressionSource:
        if value not in (SuppressionSource.API, SuppressionSource.PROVIDER):
            raise ValueError("source must be api or provider (csv and call_opt_out are set by the service)")
        return value


def parse_expiry(value: str | None, now: datetime) -> datetime | None:
    """An entry's expiry: ISO 8601 with an offset, in the future; ValueError with the user's message otherwise."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "zZ" else value)
    except ValueError:
        raise ValueError(f"expires_at {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"expires_at {value!r} has no UTC offset: add Z or an offset such as +05:30")
    if moment <= now:
        raise ValueError(f"expires_at {value!r} is in the past")
    if moment - now > MAX_EXPIRY:
        raise ValueError(f"expires_at {value!r} is more than 10 years ahead: leave it out to suppress for good")
    return moment


def number_in_path(raw: str) -> str:
    """A number from a URL (`/suppressions/%2B14155552671`): E.164 only, since no region can be given there.

    InvalidNumber when it is not one. Still-encoded text is decoded (API Gateway decodes path parameters,
    not every local server does); a `+` sent unencoded may arrive as a space, or be left out: both accepted.
    """
    text = unquote(raw).strip()
    if text and text[0].isdigit():
        text = "+" + text
    return parse_number(text, None)[0]


__all__ = [
    "MAX_NUMBERS_PER_REQUEST",
    "InvalidNumber",
    "Suppression",
    "SuppressionOptions",
    "SuppressionRequest",
    "SuppressionSource",
    "number_in_path",
    "parse_expiry",
]
