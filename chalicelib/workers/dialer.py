"""Dial-queue consumer: claim each execution exactly once, then place the call.

The claim is a transaction that moves the execution from `queued` and requires the batch
to be running, so a redelivered message finds the claim taken and a stop that returned
first wins. The provider is called only after the claim is durable.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger

from .. import clock
from ..domain.batch_status import BatchStatus
from ..domain.templates import fill
from ..errors import NotFound
from ..providers.base import CallRequest
from ..resources import DIAL_QUEUE
from ..services.container import Services
from ..services.lifecycle import complete_if_done
from ..store.executions import BatchNotRunning, StaleTransition
from .messages import DialMessage

logger = Logger(child=True)
PAUSED_RECHECK_SECONDS = 15
AGENT_CACHE_SECONDS = 30.0

_agents: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


def _agent(svc: Services, tenant_id: str, agent_id: str) -> dict[str, Any]:
    """Agents change rarely and every call needs one: cache them briefly per warm container."""
    key = (tenant_id, agent_id)
    hit = _agents.get(key)
    if hit and time.monotonic() - hit[0] < AGENT_CACHE_SECONDS:
        return hit[1]
    agent = svc.agents.get(tenant_id, agent_id)
    _agents[key] = (time.monotonic(), agent)
    return agent


def handle_dial(svc: Services, message: DialMessage) -> None:
    queued = {"execution_id": message.execution_id, "batch_id": message.batch_id, "status": "queued"}
    try:
        agent = _agent(svc, message.tenant_id, message.agent_id)
    except NotFound:
        _finish_unplaced(svc, queued, "error", "the agent was deleted before the call was placed")
        return
    try:
        svc.executions.move(
            queued,
            "initiated",
            {"claimed_at": clock.now_iso(), "provider": agent["provider"]},
            batch_must_run=True,
        )
    except StaleTransition:
        return  # already claimed (a redelivery) or already canceled
    except BatchNotRunning:
        _not_running(svc, message, queued)
        return
    provider = svc.providers[agent["provider"]]
    request = CallRequest(
        execution_id=message.execution_id,
        batch_id=message.batch_id,
        to_number=message.to,
        from_number=message.from_number,
        welcome_message=fill(agent.get("welcome_message") or "", message.variables),
        variables=message.variables,
        attempt=message.attempt,
    )
    call_id = provider.place_call(request, agent)
    svc.executions.set_fields(message.execution_id, {"provider_call_id": call_id, "placed_at": clock.now_iso()})
    logger.info("call placed", extra={"execution_id": message.execution_id, "batch_id": message.batch_id})


def _not_running(svc: Services, message: DialMessage, queued: dict[str, Any]) -> None:
    batch = svc.batches.find(message.batch_id)
    if batch is not None and batch["status"] == BatchStatus.PAUSED and not batch.get("deleted_at"):
        # Hand the message back with a delay; the original is acknowledged only after this send succeeds.
        svc.queues.send(DIAL_QUEUE, message.model_dump(), PAUSED_RECHECK_SECONDS)
        return
    _finish_unplaced(svc, queued, "canceled", "the batch was stopped before this call was placed")


def _finish_unplaced(svc: Services, queued: dict[str, Any], status: str, reason: str) -> None:
    try:
        svc.executions.move(queued, status, {"error_message": reason})
    except StaleTransition:
        return
    complete_if_done(svc, queued["batch_id"])
