"""GET /executions/{id} (an addition to Bolna's API) and Bolna's agent history, GET /v2/agent/{id}/executions."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..domain.batches import public_execution
from ..services.call_log import call_log
from ..services.history import DEFAULT_PAGE_SIZE, MAX_DEPTH, MAX_PAGE_SIZE, agent_history
from .http import ApiRequest, endpoint, json_response

bp = Blueprint(__name__)


@endpoint(bp, "/executions/{execution_id}", ["GET"])
def get_execution(req: ApiRequest, execution_id: str) -> Any:
    return json_response(public_execution(req.deps.executions.get(req.tenant_id, execution_id)))


@endpoint(bp, "/v2/agent/{agent_id}/executions", ["GET"])
def agent_executions(req: ApiRequest, agent_id: str) -> Any:
    """Bolna's agent history: page_number / page_size paging, newest first (limits in docs/api.md)."""
    return json_response(
        agent_history(
            req.deps,
            req.tenant_id,
            agent_id,
            page_number=req.int_query("page_number", 1, 1, MAX_DEPTH),
            page_size=req.int_query("page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
            batch_id=req.query("batch_id"),
            status=req.query("status"),
            since=req.query("from"),
            until=req.query("to"),
        )
    )


@endpoint(bp, "/executions/{execution_id}/log", ["GET"])
def execution_log(req: ApiRequest, execution_id: str) -> Any:
    """Bolna's raw log of a call: here its timeline, every attempt of the contact (docs/api.md)."""
    return json_response(call_log(req.deps, req.tenant_id, execution_id))
