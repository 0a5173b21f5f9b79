"""An erasure request (`POST /erasures`): one number of the tenant, normalised exactly as batch contacts are;
the stored erasure (`Erasure`), which never holds the full number, and its public shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .contacts_error import ContactsError
from .numbers import check_region, normalize_number
from .records import Record


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


class Erasure(Record):
    """One erasure request and its progress; `number_key` (the by_number_keys index's hash) is dropped when done."""

    tenant_id: str
    erasure_id: str
    status: Literal["running", "completed"] = "running"
    number_masked: str = ""
    number_key: str | None = None
    suppress: bool = False
    suppressed: bool = False
    executions_erased: int = 0
    calls_canceled: int = 0
    live_calls: int = 0
    batches: set[str] = Field(default_factory=set)  # batches whose executions it erased: their files too
    requested_at: str = ""
    updated_at: str = ""
    completed_at: str | None = None


def public_erasure(erasure: Erasure) -> dict[str, Any]:
    """The request's progress as the API shows it (never the full number)."""
    return {
        "id": erasure.erasure_id,
        "status": erasure.status,
        "phone_number": erasure.number_masked,
        "suppress": erasure.suppress,
        "suppressed": erasure.suppressed,
        "executions_erased": erasure.executions_erased,
        "calls_canceled": erasure.calls_canceled,
        "live_calls": erasure.live_calls,
        "requested_at": erasure.requested_at,
        "completed_at": erasure.completed_at,
    }
