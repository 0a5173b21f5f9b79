"""Suppression (do-not-call) routes: an addition to Bolna's API. A number in a path is E.164 (`%2B` for `+`)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..domain.suppressions import SuppressionOptions, SuppressionRequest
from ..errors import BadRequest
from ..services import suppressions as service
from ..services.audit import Change
from ..services.auth import key_label
from .http import ApiRequest, endpoint, json_response, page_response, success

bp = Blueprint(__name__)
UPLOAD_HINT = "Split the list into several requests."


@endpoint(bp, "/suppressions", ["POST"], Change("suppression.added", "suppressions"))
def add_suppressions(req: ApiRequest) -> Any:
    label = key_label(req.deps.keys, req.request.headers.get("authorization"))
    if req.content_type == "application/json":
        request = SuppressionRequest.model_validate(req.json_object())
        added = service.add_json(req.deps, req.tenant_id, label, request)
    else:
        form = req.form(req.deps.settings.max_sync_upload_bytes, UPLOAD_HINT)
        file = form.files.get("file")
        if file is None:
            raise BadRequest(
                "send JSON (`number` or `numbers`), or a CSV as the multipart file field 'file'", code="missing_file"
            )
        options = SuppressionOptions.model_validate(
            {name: form.one(name) for name in ("reason", "expires_at", "default_region") if form.one(name) is not None}
        )
        added = service.add_csv(req.deps, req.tenant_id, label, file.content, options)
    return json_response(added.answer(), 201)


@endpoint(bp, "/suppressions", ["GET"])
def list_suppressions(req: ApiRequest) -> Any:
    rows, cursor = service.list_suppressions(
        req.deps, req.tenant_id, req.query("source"), req.page_limit(), req.query("cursor")
    )
    return page_response([row.model_dump(mode="json") for row in rows], cursor)


@endpoint(bp, "/suppressions/{number}", ["GET"])
def get_suppression(req: ApiRequest, number: str) -> Any:
    return json_response(service.get_suppression(req.deps, req.tenant_id, number).model_dump(mode="json"))


@endpoint(bp, "/suppressions/{number}", ["DELETE"], Change("suppression.removed", "suppression", "number", masked=True))
def delete_suppression(req: ApiRequest, number: str) -> Any:
    service.remove_suppression(req.deps, req.tenant_id, number)
    return success("deleted")
