"""`GET /batches/{id}/plan` (and `plan.csv`): the batch's plan, placing no call."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..domain.plan import PlanQuery
from ..services import exports
from ..services.plan import batch_plan, plan_csv_rows
from .http import ApiRequest, csv_answer, endpoint, json_response

bp = Blueprint(__name__)


def _query(req: ApiRequest) -> PlanQuery:
    params: Any = req.request.query_params or {}
    return PlanQuery.model_validate(dict(params))


@endpoint(bp, "/batches/{batch_id}/plan", ["GET"])
def plan(req: ApiRequest, batch_id: str) -> Any:
    return json_response(batch_plan(req.deps, req.tenant_id, batch_id, _query(req)))


@endpoint(bp, "/batches/{batch_id}/plan.csv", ["GET"])
def plan_csv(req: ApiRequest, batch_id: str) -> Any:
    """Inline when small; a large plan is written to S3 and redirected to, as exports are (`csv_answer`)."""
    rows = plan_csv_rows(req.deps, req.tenant_id, batch_id)
    return csv_answer(exports.rows_csv(req.deps, req.tenant_id, batch_id, f"{batch_id}-plan.csv", rows))
