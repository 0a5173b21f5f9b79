"""Exports-queue consumer: a large batch's executions CSV, written to S3 in the background."""

from __future__ import annotations

from ..domain.messages import ExportMessage
from ..services.container import Dependencies
from ..services.exports import export_in_background


def handle_export(deps: Dependencies, message: ExportMessage) -> None:
    export_in_background(deps, message.batch_id, message.token)
