"""Control-queue consumer: a batch's start, a step of its dispatch, cancel or purge walk, an upload's expiry
check, or a step of an erasure."""

from __future__ import annotations

from ..domain.messages import ControlMessage
from ..domain.timeline import Component, acting_as
from ..services.cancel_walk import cancel_step
from ..services.container import Dependencies
from ..services.dispatch import dispatch_step, start_batch
from ..services.erasure_files import erase_files_step
from ..services.erasures import erase_step
from ..services.purge_walk import purge_step
from ..services.upload_expiry import check_upload


def handle_control(deps: Dependencies, message: ControlMessage) -> None:
    with acting_as(Component.DISPATCHER):
        _handle(deps, message)


def _handle(deps: Dependencies, message: ControlMessage) -> None:
    if message.kind == "start":
        start_batch(deps, message)
    elif message.kind == "cancel":
        cancel_step(deps, message.batch_id, message.pos, message.after)
    elif message.kind == "upload_check":
        check_upload(deps, message)
    elif message.kind == "purge":
        purge_step(deps, message.batch_id, message.phase, message.after)
    elif message.kind == "erase":
        if message.phase == "files":
            erase_files_step(deps, message.tenant_id or "", message.erasure_id or "", message.batch_id, message.pos)
        else:
            erase_step(deps, message.tenant_id or "", message.erasure_id or "", message.after)
    else:
        dispatch_step(deps, message.batch_id, message.pos, message.waits)
