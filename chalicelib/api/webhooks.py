"""The tenant's webhook signing secret, and a batch's webhook delivery log (additions to Bolna's API)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..services import webhooks
from ..services.audit import Change
from .http import ApiRequest, endpoint, json_response, page_response

bp = Blueprint(__name__)


@endpoint(bp, "/webhooks/secret", ["GET"])
def get_secret(req: ApiRequest) -> Any:
    return json_response(webhooks.public_secret(webhooks.current_secret(req.deps, req.tenant_id)))


@endpoint(bp, "/webhooks/secret/rotate", ["POST"], Change("webhook_secret.rotated", "webhook_secret"))
def rotate_secret(req: ApiRequest) -> Any:
    return json_response(webhooks.public_secret(webhooks.rotate_secret(req.deps, req.tenant_id)))


@endpoint(bp, "/batches/{batch_id}/webhooks", ["GET"])
def deliveries(req: ApiRequest, batch_id: str) -> Any:
    req.deps.batches.get(req.tenant_id, batch_id)
    rows, cursor = req.deps.deliveries.page(batch_id, limit=req.page_limit(), cursor=req.query("cursor"))
    return page_response([webhooks.public_delivery(row) for row in rows], cursor)
