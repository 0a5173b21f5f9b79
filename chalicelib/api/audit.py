"""The tenant's audit log: read-only; no route edits or deletes an entry (an addition to Bolna's API)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..domain.bounds import no_controls
from ..errors import BadRequest
from ..services.audit import public_entry
from .http import ApiRequest, endpoint, page_response

bp = Blueprint(__name__)
MAX_TARGET = 300


@endpoint(bp, "/audit", ["GET"])
def list_audit(req: ApiRequest) -> Any:
    target = req.query("target") or None
    if target is not None:
        try:
            if len(target) > MAX_TARGET:
                raise ValueError(f"must be at most {MAX_TARGET} characters")
            no_controls(target)
            target.encode("utf-8")  # a lone surrogate cannot be stored, so it can name no target
        except (ValueError, UnicodeEncodeError) as exc:
            raise BadRequest(f"target {exc}", code="invalid_query") from None
    rows, cursor = req.deps.audit.page(req.tenant_id, target=target, limit=req.page_limit(), cursor=req.query("cursor"))
    return page_response([public_entry(row) for row in rows], cursor)
