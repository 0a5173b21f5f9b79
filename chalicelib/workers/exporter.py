"""Exports-queue consumer: a large batch's executions CSV, written to S3 in the background."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ..services.container import Services
from ..services.exports import export_in_background


class ExportMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    batch_id: str
    token: str


def handle_export(svc: Services, message: ExportMessage) -> None:
    export_in_background(svc, message.batch_id, message.token)
