"""The sweeper's safety net for a call waiting as `rescheduled` (calling hours, a contact limit) whose wake-up
was lost: a call that must wait is always woken, at least once, and dialled at most once.

The wake-up is a Scheduler schedule or a delayed message, created after the move to `rescheduled`; a crash in
between (chaos seeds 141, 868, ...) or a schedule that never fires leaves the call waiting for ever. The by_wake
index lists such calls by their wake-up time; one still there WAKE_GRACE after it (and untouched as long) gets
a fresh dial message. A second wake-up is harmless: the claim from `rescheduled` is a conditional write, and the
re-armed message becomes the call's one live wait chain (DialMessage.live_wait), so older copies die.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from .. import clock
from ..domain.messages import DialMessage
from ..domain.records import Execution
from ..observability import count, logger
from ..resources import DIAL_QUEUE
from .container import Dependencies

# Past its wake-up time by this much, a rescheduled call's wake-up is lost: a schedule fires within a minute,
# a woken call leaves `rescheduled` at once (or is re-scheduled, which moves its time), and the sweeper runs
# every minute.
WAKE_GRACE = timedelta(minutes=10)


def lost_wakes(deps: Dependencies, now: datetime) -> list[Execution]:
    """Calls still `rescheduled` WAKE_GRACE past their wake-up time."""
    return list(deps.executions.wakes_due_before(clock.iso(now - WAKE_GRACE)))


def rearm(deps: Dependencies, execution: Execution, now: datetime) -> bool:
    """Send `execution` a new wake-up, unless something touched it within WAKE_GRACE (a re-arm, a re-schedule)
    or moved it since it was read. True when sent."""
    if execution.updated_at >= clock.iso(now - WAKE_GRACE):
        return False
    batch = deps.batches.find(execution.batch_id)
    if batch is None:
        return False
    token = uuid.uuid4().hex
    if not deps.executions.rearm_wake(execution, token):
        return False
    message = DialMessage.for_execution(execution, batch, expect_status="rescheduled", wait_token=token)
    deps.queues.send(DIAL_QUEUE, message)
    count("WakeUpsRearmed")
    logger.warning("a rescheduled call's wake-up was lost: woken by the sweeper", extra={"due": execution.scheduled_at})
    return True
