"""Erasure requests: forget one number across the tenant's executions (an addition to Bolna's API)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..domain.erasures import ErasureRequest, public_erasure
from ..services.audit import Change
from ..services.erasures import request_erasure
from .http import ApiRequest, endpoint, json_response

bp = Blueprint(__name__)


@endpoint(bp, "/erasures", ["POST"], Change("erasure.requested", "erasure", field="id"))
def create_erasure(req: ApiRequest) -> Any:
    request = ErasureRequest.model_validate(req.json_object())
    return json_response(public_erasure(request_erasure(req.deps, req.tenant_id, request, req.key_label)), 202)


@endpoint(bp, "/erasures/{erasure_id}", ["GET"])
def get_erasure(req: ApiRequest, erasure_id: str) -> Any:
    return json_response(public_erasure(req.deps.erasures.get(req.tenant_id, erasure_id)))
