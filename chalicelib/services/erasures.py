"""Erasure of one number from every execution of a tenant, on the control queue in bounded, idempotent steps.

The number's executions are found through the by_number_keys index (a hash of tenant and number), never
a scan. Each step reads a page: a call still waiting for the dialer is canceled first (it must not
ring after the person asked to be forgotten); a final one is erased (recipient data, transcript and
recording URL removed, the number masked, `erased_at` set) and leaves the index; a live call is left
until it ends. A pass that ends with live calls left starts again a minute later. Then the files of
each batch it erased executions of are cleaned (`erasure_files.py`). Erasing what is erased already
does nothing, so a repeated step, or a repeated request, is harmless.
"""

from __future__ import annotations

import uuid

from .. import clock
from ..domain.call_status import CallStatus, is_final
from ..domain.erasures import Erasure, ErasureRequest
from ..domain.executions import number_key
from ..domain.messages import ControlMessage
from ..domain.numbers import mask_number
from ..domain.records import Execution
from ..domain.suppressions import SuppressionSource
from ..observability import mask_phone_numbers
from ..resources import CONTROL_QUEUE
from ..store.dynamo import Fields
from ..store.executions import BY_NUMBER, WAITING, StaleTransition
from .attempt_end import finish_call
from .container import Dependencies

ERASE_PAGE = 100  # executions read per step
LIVE_RECHECK_SECONDS = 60
CANCEL_REASON = "canceled: the number was erased on request"
SUPPRESS_REASON = "erasure request"


def request_erasure(deps: Dependencies, tenant_id: str, request: ErasureRequest, key_label: str = "") -> Erasure:
    """Record the request and start its walk; the number is kept only as a mask and as the index's hash."""
    now = clock.now_iso()
    erasure = Erasure(
        tenant_id=tenant_id,
        erasure_id=uuid.uuid4().hex,
        status="running",
        number_masked=mask_number(request.phone_number),
        number_key=number_key(tenant_id, request.phone_number),
        suppress=request.suppress,
        suppressed=suppress_number(deps, tenant_id, request.phone_number, key_label) if request.suppress else False,
        requested_at=now,
        updated_at=now,
    )
    deps.erasures.create(erasure)
    deps.queues.send(CONTROL_QUEUE, ControlMessage.erase(tenant_id, erasure.erasure_id))
    return erasure


def suppress_number(deps: Dependencies, tenant_id: str, phone_number: str, key_label: str) -> bool:
    """Keep the number on the tenant's do-not-call list (source `api`), so no batch dials it again."""
    deps.numbers.suppress(tenant_id, phone_number, SuppressionSource.API, reason=SUPPRESS_REASON, added_by=key_label)
    return True


def erase_step(deps: Dependencies, tenant_id: str, erasure_id: str, after: str | None) -> None:
    erasure = deps.erasures.find(tenant_id, erasure_id)
    if erasure is None or erasure.status != "running" or erasure.number_key is None:
        return
    key = erasure.number_key
    page, last = deps.executions.page_after(BY_NUMBER, "number_key", key, "execution_id", after, ERASE_PAGE)
    erased = canceled = 0
    changed: set[str] = set()
    for execution in page:
        if execution.tenant_id != tenant_id:  # the key is per tenant: never, but never touch another's
            continue
        if execution.status in WAITING:
            canceled += _cancel(deps, execution)
            execution = deps.executions.find(execution.execution_id) or execution
        if is_final(execution.status) and _erase(deps, execution):
            erased += 1
            changed.add(execution.batch_id)
    if last is not None:
        deps.erasures.progress(tenant_id, erasure_id, erased=erased, canceled=canceled, live=0, batches=changed)
        deps.queues.send(CONTROL_QUEUE, ControlMessage.erase(tenant_id, erasure_id, last))
        return
    left, _ = deps.executions.page_after(BY_NUMBER, "number_key", key, "execution_id", None, ERASE_PAGE)
    deps.erasures.progress(tenant_id, erasure_id, erased=erased, canceled=canceled, live=len(left), batches=changed)
    if left:  # live calls: erase them once they have ended
        deps.queues.send(CONTROL_QUEUE, ControlMessage.erase(tenant_id, erasure_id), LIVE_RECHECK_SECONDS)
        return
    deps.queues.send(CONTROL_QUEUE, ControlMessage.erase_files(tenant_id, erasure_id, "", 0))


def _cancel(deps: Dependencies, execution: Execution) -> int:
    """Cancel a call not yet claimed (the dialer's claim then fails); 0 when it moved on meanwhile."""
    try:
        finish_call(deps, execution, CallStatus.CANCELED, {"error_message": CANCEL_REASON})
    except StaleTransition:
        return 0
    return 1


def _erase(deps: Dependencies, execution: Execution) -> bool:
    fields: Fields = {
        "user_number": mask_number(execution.user_number),
        "erased_at": clock.now_iso(),
        "updated_at": clock.now_iso(),
    }
    if execution.error_message:  # a provider's message may quote the number
        fields["error_message"] = mask_phone_numbers(execution.error_message)
    return deps.executions.erase(execution.execution_id, fields)
