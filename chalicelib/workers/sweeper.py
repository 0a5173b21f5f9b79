"""Every minute: sweep once (`services/sweeping.py`), and log what the sweep did."""

from __future__ import annotations

from ..domain.timeline import Component, acting_as
from ..observability import logger
from ..services.container import Dependencies
from ..services.sweeping import SweepReport, sweep_once


def sweep(deps: Dependencies) -> SweepReport:
    with acting_as(Component.SWEEPER):
        report = sweep_once(deps)
    if any(vars(report).values()):
        logger.info("sweep", extra=vars(report))
    return report
