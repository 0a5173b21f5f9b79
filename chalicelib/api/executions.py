"""GET /executions/{id} (an addition to Bolna's API)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..domain.batches import public_execution
from .http import ApiRequest, endpoint, json_response

bp = Blueprint(__name__)


@endpoint(bp, "/executions/{execution_id}", ["GET"])
def get_execution(req: ApiRequest, execution_id: str) -> Any:
    return json_response(public_execution(req.svc.executions.get(req.tenant_id, execution_id)))
