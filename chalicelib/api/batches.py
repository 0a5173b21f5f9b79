"""Bolna's /batches routes, wire-compatible, plus the additions marked in API.md."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from .. import clock
from ..domain.batches import (
    BatchOptions,
    Budget,
    UploadOptions,
    check_file_name,
    public_batch,
    public_execution,
)
from ..domain.call_status import CallStatus
from ..domain.calling_rules import RULE_FIELDS, CallingRules
from ..errors import BadRequest, PayloadTooLarge
from ..services import exports, lifecycle
from ..services.audit import Change
from ..services.ingest import Upload, create_batch, errors_page, presign_upload
from .forms import fields_as_json
from .http import ApiRequest, csv_answer, endpoint, json_response, page_response, success

bp = Blueprint(__name__)
UPLOAD_HINT = "Upload larger files with POST /batches/uploads (a presigned S3 upload) instead."


@endpoint(bp, "/batches", ["POST"], Change("batch.created", "batch", field="batch_id"))
def create(req: ApiRequest) -> Any:
    if req.content_type == "application/json":
        if len(req.body_bytes()) > req.deps.settings.max_sync_upload_bytes:
            raise PayloadTooLarge(f"the body is too large for this route. {UPLOAD_HINT}")
        data = req.json_object()
        contacts = data.pop("contacts", None)
        if not isinstance(contacts, list):
            raise BadRequest(
                "send contacts as a JSON array of objects, or the CSV as multipart field 'file'",
                code="missing_contacts",
            )
        if not all(isinstance(c, dict) for c in contacts):
            raise BadRequest("every item of contacts must be an object", code="invalid_contacts")
        options = BatchOptions.model_validate(data)
        upload = Upload(records=contacts, file_name=None)
    else:
        form = req.form(req.deps.settings.max_sync_upload_bytes, UPLOAD_HINT)
        file = form.files.get("file")
        if file is None:
            raise BadRequest("the CSV is missing: send it as the multipart file field 'file'", code="missing_file")
        options = BatchOptions.model_validate(fields_as_json(form, ("from_phone_numbers",)))
        try:
            check_file_name(file.name)
        except ValueError as exc:
            raise BadRequest(f"file: {exc}", details=[{"field": "file", "message": str(exc)}]) from None
        upload = Upload(csv_chunks=[file.content], file_name=file.name, raw=file.content)
    return json_response(create_batch(req.deps, req.tenant_id, options, upload), 201)


@endpoint(bp, "/batches/uploads", ["POST"], Change("batch.created", "batch", field="batch_id"))
def create_upload(req: ApiRequest) -> Any:
    """Large files: a presigned S3 POST; the batch is `validating` until the file has been read."""
    options = UploadOptions.model_validate(req.fields(("from_phone_numbers",)))
    return json_response(presign_upload(req.deps, req.tenant_id, options, options.file_name or None), 201)


@endpoint(bp, "/batches/{batch_id}", ["GET"])
def get_batch(req: ApiRequest, batch_id: str) -> Any:
    return json_response(public_batch(req.deps.batches.get(req.tenant_id, batch_id), clock.now()))


@endpoint(bp, "/batches/{batch_id}/all", ["GET"])
def list_for_agent(req: ApiRequest, batch_id: str) -> Any:
    """Bolna's GET /batches/{agent_id}/all; API Gateway needs the sibling variable to share one name."""
    agent_id = batch_id
    req.deps.agents.get(req.tenant_id, agent_id)
    now = clock.now()
    return json_response([public_batch(b, now) for b in req.deps.batches.list_for_agent(req.tenant_id, agent_id)])


@endpoint(bp, "/batches/{batch_id}/errors", ["GET"])
def errors(req: ApiRequest, batch_id: str) -> Any:
    limit = req.int_query("limit", 1000, 1, 10000)
    offset = req.int_query("cursor", 0, 0, 10**9)
    return page_response(*errors_page(req.deps, req.tenant_id, batch_id, offset, limit))


@endpoint(bp, "/batches/{batch_id}", ["DELETE"], Change("batch.deleted", "batch", "batch_id"))
def delete(req: ApiRequest, batch_id: str) -> Any:
    lifecycle.delete_batch(req.deps, req.tenant_id, batch_id)
    return success("deleted")


def _scheduled_at(req: ApiRequest) -> tuple[object, bool, CallingRules | None, float | None]:
    data = req.fields()
    bypass = str(data.get("bypass_call_guardrails", "false")).lower() in ("true", "1", "yes")
    given = {name: data[name] for name in RULE_FIELDS if data.get(name) not in (None, "")}
    rules = CallingRules.model_validate(given) if given else None
    return data.get("scheduled_at"), bypass, rules, Budget.model_validate(data).max_spend


@endpoint(bp, "/batches/{batch_id}/schedule", ["POST"], Change("batch.scheduled", "batch", "batch_id"))
def schedule(req: ApiRequest, batch_id: str) -> Any:
    scheduled_at, bypass, rules, max_spend = _scheduled_at(req)
    batch = lifecycle.schedule_batch(
        req.deps, req.tenant_id, batch_id, scheduled_at, bypass=bypass, rules=rules, max_spend=max_spend
    )
    return success(batch.status, scheduled_at=batch.scheduled_at)


@endpoint(bp, "/batches/{batch_id}/run", ["POST"], Change("batch.run", "batch", "batch_id"))
def run(req: ApiRequest, batch_id: str) -> Any:
    batch = lifecycle.run_batch(req.deps, req.tenant_id, batch_id)
    return success(batch.status, scheduled_at=batch.scheduled_at)


@endpoint(bp, "/batches/{batch_id}/stop", ["POST"], Change("batch.stopped", "batch", "batch_id"))
def stop(req: ApiRequest, batch_id: str) -> Any:
    lifecycle.stop_batch(req.deps, req.tenant_id, batch_id)
    return success("stopped")


@endpoint(bp, "/batches/{batch_id}/pause", ["POST"], Change("batch.paused", "batch", "batch_id"))
def pause(req: ApiRequest, batch_id: str) -> Any:
    lifecycle.pause_batch(req.deps, req.tenant_id, batch_id)
    return success("paused")


@endpoint(bp, "/batches/{batch_id}/resume", ["POST"], Change("batch.resumed", "batch", "batch_id"))
def resume(req: ApiRequest, batch_id: str) -> Any:
    """An optional body raises the budget (`max_spend`); a batch that spent its own answers 409 without one."""
    max_spend = Budget.model_validate(req.fields()).max_spend if req.body_bytes().strip() else None
    batch = lifecycle.resume_batch(req.deps, req.tenant_id, batch_id, max_spend)
    return success(batch.status)


CALL_STATUSES = tuple(s.value for s in CallStatus)


@endpoint(bp, "/batches/{batch_id}/executions", ["GET"])
def executions(req: ApiRequest, batch_id: str) -> Any:
    req.deps.batches.get(req.tenant_id, batch_id)
    status = req.query("status")
    if status and status not in CALL_STATUSES:  # a typo would read as "no call has this status"
        raise BadRequest(f"status must be one of {', '.join(CALL_STATUSES)}", code="invalid_query")
    items, cursor = req.deps.executions.page_for_batch(
        batch_id, limit=req.page_limit(), cursor=req.query("cursor"), status=status
    )
    return page_response([public_execution(e) for e in items], cursor)


EXPORT_POLL_SECONDS = 5


@endpoint(bp, "/batches/{batch_id}/executions.csv", ["GET"])
def executions_csv(req: ApiRequest, batch_id: str) -> Any:
    """Small exports inline; large ones 303 See Other to a short-lived presigned S3 URL (`curl -L` follows);
    very large ones 202 (preparing, poll again) while the exporter writes them."""
    export = exports.executions_csv(req.deps, req.tenant_id, batch_id)
    if export.preparing:
        return json_response(
            {"state": "preparing", "since": export.since, "retry_after": EXPORT_POLL_SECONDS},
            202,
            headers={
                "Retry-After": str(EXPORT_POLL_SECONDS),
                "Location": req.request.path,
                "Cache-Control": "no-store",
            },
        )
    return csv_answer(export)
