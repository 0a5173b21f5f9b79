"""The tenant's do-not-call list: add (JSON or CSV), read, list, remove; opt-outs captured from calls.

Numbers go through the batch contacts' own readers (`domain/contact_reader.py`), so the list and
the batches normalise, validate and dedupe numbers by exactly the same rules. Enforcement is not
here: ingest skips suppressed contacts (services/ingest.py) and the dialer's claim refuses them
atomically (services/number_guard.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .. import clock
from ..domain.contact_reader import Contact, ContactReader, RowError, read_records
from ..domain.contacts_error import ContactsError
from ..domain.records import Execution
from ..domain.suppressions import (
    MAX_NUMBERS_PER_REQUEST,
    Suppression,
    SuppressionOptions,
    SuppressionRequest,
    SuppressionSource,
    number_in_path,
    parse_expiry,
)
from ..errors import BadRequest, NotFound
from ..observability import count
from ..store.executions import WAITING, StaleTransition
from .attempt_end import finish_call
from .container import Dependencies

MAX_ROW_ERRORS = 100  # row errors listed in the answer (all are counted)
WRITERS = 8  # concurrent UpdateItems: 10,000 numbers in well under API Gateway's 29 s


@dataclass
class Added:
    """What `POST /suppressions` did: numbers added (or renewed) and rows refused, as a batch upload reports them."""

    added: int = 0
    invalid_numbers: int = 0
    duplicate_numbers: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def answer(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "invalid_numbers": self.invalid_numbers,
            "duplicate_numbers": self.duplicate_numbers,
            "errors": self.errors,
        }


def add_json(deps: Dependencies, tenant_id: str, added_by: str | None, request: SuppressionRequest) -> Added:
    if (request.number is None) == (request.numbers is None):
        raise BadRequest("send one `number` or a list of `numbers`", code="validation_error")
    numbers = [request.number] if request.number is not None else request.numbers or []
    try:
        reader = read_records([{"phone_number": n} for n in numbers], request.default_region)
    except ContactsError as exc:  # a default_region no numbering plan has
        raise BadRequest(exc.message, code=exc.code, details=exc.details) from None
    return _add(deps, tenant_id, added_by, reader, request.source, request.reason, request.expires_at)


def add_csv(
    deps: Dependencies,
    tenant_id: str,
    added_by: str | None,
    content: bytes,
    options: SuppressionOptions,
) -> Added:
    """A CSV with a number column (same header aliases, encodings and limits as a batch file)."""
    try:
        reader = ContactReader([content], options.default_region)
    except ContactsError as exc:
        raise BadRequest(exc.message, code=exc.code, details=exc.details) from None
    return _add(deps, tenant_id, added_by, reader, SuppressionSource.CSV, options.reason, options.expires_at)


def _add(
    deps: Dependencies,
    tenant_id: str,
    added_by: str | None,
    rows: Iterable[Contact | RowError],
    source: SuppressionSource,
    reason: str | None,
    expires_at: str | None,
) -> Added:
    try:
        expiry = parse_expiry(expires_at, clock.now())
    except ValueError as exc:
        details = [{"field": "expires_at", "message": str(exc)}]
        raise BadRequest(str(exc), code="validation_error", details=details) from None
    result = Added()
    numbers: list[str] = []
    try:
        for row in rows:
            if isinstance(row, Contact):
                numbers.append(row.number)
                if len(numbers) > MAX_NUMBERS_PER_REQUEST:
                    raise BadRequest(
                        f"more than {MAX_NUMBERS_PER_REQUEST} numbers in one request: send several",
                        code="too_many_rows",
                    )
            elif row.reason != "blank_row":
                if row.reason == "duplicate":
                    result.duplicate_numbers += 1
                else:
                    result.invalid_numbers += 1
                if len(result.errors) < MAX_ROW_ERRORS:
                    result.errors.append(row.as_dict())
        getattr(rows, "summary", None)  # raises the reader's whole-input error (no valid numbers, ...)
    except ContactsError as exc:
        raise BadRequest(exc.message, code=exc.code, details=exc.details) from None

    def one(number: str) -> None:
        deps.numbers.suppress(tenant_id, number, source, reason=reason, added_by=added_by, expires_at=expiry)

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(one, numbers))
    result.added = len(numbers)
    count("NumbersSuppressed", len(numbers))
    return result


def _number(raw: str) -> str:
    try:
        return number_in_path(raw)
    except ValueError as exc:
        raise BadRequest(f"not a phone number in E.164 form: {exc}", code="invalid_number") from None


def get_suppression(deps: Dependencies, tenant_id: str, raw_number: str) -> Suppression:
    entry = deps.numbers.get(tenant_id, _number(raw_number))
    if entry is None:
        raise NotFound("this number is not on the suppression list", code="suppression_not_found")
    return entry


def remove_suppression(deps: Dependencies, tenant_id: str, raw_number: str) -> None:
    if not deps.numbers.unsuppress(tenant_id, _number(raw_number)):
        raise NotFound("this number is not on the suppression list", code="suppression_not_found")


def list_suppressions(
    deps: Dependencies, tenant_id: str, source: str | None, limit: int, cursor: str | None
) -> tuple[list[Suppression], str | None]:
    if source is not None and source not in {s.value for s in SuppressionSource}:
        known = ", ".join(s.value for s in SuppressionSource)
        raise BadRequest(f"source must be one of {known}", code="invalid_query")
    return deps.numbers.page(tenant_id, source=source, limit=limit, cursor=cursor)


OPT_OUT_REASON = "the person asked not to be called again, during a call"


def record_opt_out(deps: Dependencies, execution: Execution) -> None:
    """A call's opt-out: suppress the number (source call_opt_out, this execution), end its pending retry.

    Idempotent (a redelivered event suppresses again, finds the retry ended). A retry created after
    this, or one this misses, still meets the suppression in its own claim and ends `suppressed`.
    """
    deps.numbers.suppress(
        execution.tenant_id,
        execution.user_number,
        SuppressionSource.CALL_OPT_OUT,
        reason=OPT_OUT_REASON,
        execution_id=execution.execution_id,
    )
    deps.executions.set_fields(execution.execution_id, {"opted_out": True})
    count("CallOptOuts")
    retry = deps.executions.find(execution.superseded_by) if execution.superseded_by else None
    if retry is not None and retry.status in WAITING:
        with contextlib.suppress(StaleTransition):  # its claim or a stop got there first
            finish_call(deps, retry, "suppressed", {"error_message": OPT_OUT_REASON})
