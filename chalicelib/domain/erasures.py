"""An erasure request (`POST /erasures`): one number of the tenant, normalised exactly as batch contacts are."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .contacts_error import ContactsError
from .numbers import check_region, normalize_number


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone_number: str = Field(
        ...,
        min_length=1,
        max_length=32,
        description="The number to forget, as a CSV cell would hold it (E.164, or national with `default_region`).",
        examples=["+14155552671"],
    )
    default_region: str | None = Field(
        None, max_length=8, description="ISO country code for a number written without `+`, e.g. `US`."
    )
    suppress: bool = Field(False, strict=True, description="Also keep the number on the tenant's do-not-call list.")

    @model_validator(mode="after")
    def _normalise(self) -> ErasureRequest:
        try:
            region = check_region(self.default_region)
        except ContactsError as exc:
            raise ValueError(exc.message) from None
        self.phone_number = normalize_number(self.phone_number, region)  # InvalidNumber is a ValueError
        return self


def public_erasure(erasure: dict[str, Any]) -> dict[str, Any]:
    """The request's progress as the API shows it (never the full number)."""
    return {
        "id": erasure["erasure_id"],
        "status": erasure["status"],
        "phone_number": erasure["number_masked"],
        "suppress": bool(erasure.get("suppress")),
        "suppressed": bool(erasure.get("suppressed")),
        "executions_erased": int(erasure.get("executions_erased") or 0),
        "calls_canceled": int(erasure.get("calls_canceled") or 0),
        "live_calls": int(erasure.get("live_calls") or 0),
        "requested_at": erasure["requested_at"],
        "completed_at": erasure.get("completed_at"),
    }
