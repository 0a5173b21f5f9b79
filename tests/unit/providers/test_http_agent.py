"""Which signed callback bodies are about the call whose URL they were posted to."""

from __future__ import annotations

import pytest

from chalicelib.domain.call_status import CallStatus
from chalicelib.domain.records import Execution
from chalicelib.providers.base import ForgedCallback
from chalicelib.providers.http_agent import require_same_call

IDS = {"batch_id": "b", "tenant_id": "t", "agent_id": "a", "status": CallStatus.INITIATED}
RECORDED = Execution(execution_id="e-y", provider_call_id="va-y", **IDS)
UNRECORDED = Execution(execution_id="e-y", **IDS)


@pytest.mark.parametrize(
    ("execution", "reference", "call_id"),
    [
        (RECORDED, "e-y", "va-y"),  # both identifiers echoed
        (RECORDED, "e-y", None),  # our execution id only
        (RECORDED, None, "va-y"),  # the provider's call id only
        (UNRECORDED, "e-y", "va-new"),  # the dialer died before recording the call id: ours binds it
        (UNRECORDED, "e-y", None),
    ],
)
def test_a_body_naming_this_call_is_accepted(execution: Execution, reference: str, call_id: str) -> None:
    require_same_call(execution, reference, call_id)


@pytest.mark.parametrize(
    ("execution", "reference", "call_id"),
    [
        (RECORDED, None, None),  # names no call
        (RECORDED, "e-x", None),  # another execution
        (RECORDED, None, "va-x"),  # another call
        (RECORDED, "e-y", "va-x"),  # contradicts itself: another call's id
        (RECORDED, "e-x", "va-y"),
        (UNRECORDED, None, "va-x"),  # a call id with nothing recorded to compare it to
        (UNRECORDED, "e-x", None),
        (UNRECORDED, None, None),
    ],
)
def test_a_body_not_naming_this_call_is_refused(execution: Execution, reference: str, call_id: str) -> None:
    with pytest.raises(ForgedCallback):
        require_same_call(execution, reference, call_id)
