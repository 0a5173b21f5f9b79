"""The one place typed errors become HTTP responses, and where every route authenticates."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import ValidationError

from .. import observability
from ..domain import json_input
from ..domain.json_input import JsonInputError, JsonObject
from ..errors import BadRequest, MethodNotAllowed, NotFound, ServiceError, TryAgain, UnsupportedMediaType
from ..services import audit
from ..services.auth import identify
from ..services.container import Dependencies, get_dependencies
from ..services.exports import Export
from .bodies import ErrorBody
from .forms import Form, fields_as_json, parse_form

ANY_CONTENT = ["*/*"]  # we answer unsupported types ourselves, in our error shape
SMALL_FORM = 64 * 1024  # a form of options only (no file): more is not a form a person wrote
PAGE_SIZE = 500
MAX_PAGE = 1000


@dataclass(frozen=True)
class ApiRequest:
    request: Request
    tenant_id: str
    deps: Dependencies
    key_label: str = ""
    request_id: str = ""

    @property
    def content_type(self) -> str:
        return (self.request.headers.get("content-type") or "").split(";")[0].strip().lower()

    def query(self, name: str) -> str | None:
        params: Any = self.request.query_params or {}
        return params.get(name)

    def int_query(self, name: str, default: int, low: int, high: int) -> int:
        """A whole-number query parameter within [low, high] (400 otherwise), or the default when absent."""
        raw = self.query(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(f"{name} must be a whole number", code="invalid_query") from None
        if not low <= value <= high:
            raise BadRequest(f"{name} must be between {low} and {high}", code="invalid_query")
        return value

    def page_limit(self) -> int:
        """`?limit=` of a paged listing (with `?cursor=` and an `X-Next-Cursor` answer)."""
        return self.int_query("limit", PAGE_SIZE, 1, MAX_PAGE)

    def body_bytes(self) -> bytes:
        raw = self.request.raw_body or b""
        return raw.encode() if isinstance(raw, str) else raw

    def json_object(self) -> JsonObject:
        raw = self.body_bytes()
        if not raw.strip():
            return {}
        try:
            data = json_input.loads(raw)
        except JsonInputError as exc:
            details = [{"field": exc.field, "message": exc.message}] if exc.field else []
            raise BadRequest(exc.message, code="invalid_json", details=details) from None
        if not isinstance(data, dict):
            raise BadRequest("the JSON body must be an object", code="invalid_json")
        return data

    def form(self, max_bytes: int = SMALL_FORM, upload_hint: str = "") -> Form:
        """The body as form fields and files (multipart or url-encoded), at most `max_bytes`."""
        return parse_form(self.request.headers.get("content-type", ""), self.body_bytes(), max_bytes, upload_hint)

    def fields(self, repeatable: tuple[str, ...] = ()) -> JsonObject:
        """The body as the JSON object a route takes, sent as JSON or as form fields (`repeatable` stay lists)."""
        if self.content_type == "application/json":
            return self.json_object()
        return fields_as_json(self.form(), repeatable)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, default=str),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def success(state: str, **more: Any) -> Response:
    """Bolna's answer to an action: `{"message": "success", "state": ...}` and what else the action reports."""
    return json_response({"message": "success", "state": state, **more})


def page_response(rows: list[Any], cursor: str | None) -> Response:
    """One page of a listing; `X-Next-Cursor` (absent on the last page) is what `?cursor=` takes for the next."""
    return json_response(rows, headers={"X-Next-Cursor": cursor} if cursor else {})


def csv_answer(export: Export) -> Response:
    """A CSV answer: inline (200, an attachment) when small, else 303 See Other to its short-lived presigned
    S3 URL (`curl -L` follows), with the URL in the body too for clients that do not follow redirects."""
    if export.url is not None:
        return json_response(
            {"url": export.url, "expires_at": export.expires_at},
            303,
            headers={"Location": export.url, "Cache-Control": "no-store"},
        )
    return Response(
        body=export.body or "",
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{export.file_name}"',
        },
    )


def error_response(error: ServiceError) -> Response:
    response = json_response(
        ErrorBody(message=error.message, code=error.code, details=error.details).model_dump(), error.status
    )
    if isinstance(error, TryAgain):  # AWS busy (a throttle, a transaction that kept conflicting): not lasting
        response.headers = {**response.headers, "Retry-After": str(error.retry_after_seconds)}
    return response


# Chalice answers a few errors itself, as {"Code", "Message"}: each becomes one of ours.
_CHALICE_ERRORS: dict[str, type[ServiceError]] = {
    "MethodNotAllowedError": MethodNotAllowed,
    "UnsupportedMediaType": UnsupportedMediaType,
    "NotFoundError": NotFound,
    "BadRequest": BadRequest,
    "BadRequestError": BadRequest,
}


def in_our_error_shape(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: an error Chalice itself answered (405, 415, its 500) leaves in our JSON shape.

    Our routes never answer `{"Code", "Message"}`; only Chalice's own handler does, for a method the
    path does not take, a content type a route refuses, or an exception that escaped a view (a bug:
    it stays a 500, with no detail of the exception).
    """
    response = get_response(event)
    body = response.body
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    kind = _CHALICE_ERRORS.get(str(body["Code"]))
    if kind is not None and response.status_code == kind.status:
        shaped = error_response(kind(str(body["Message"])))
    else:
        message = "internal error" if response.status_code >= 500 else str(body["Message"])
        code = "internal_error" if response.status_code >= 500 else "bad_request"
        shaped = json_response({"message": message, "code": code, "details": []}, response.status_code)
    shaped.headers = {**response.headers, **shaped.headers}
    return shaped


def _message(err: Any) -> str:
    """pydantic's message, except that a length bound on an optional string says "characters", not "items"
    (the bound then sits on the union, which pydantic measures as a sized value)."""
    ctx = err.get("ctx") or {}
    if err["type"] in ("too_long", "too_short") and isinstance(err.get("input"), str):
        bound = "most" if err["type"] == "too_long" else "least"
        limit = ctx.get("max_length" if bound == "most" else "min_length")
        return f"String should have at {bound} {limit} characters, not {len(err['input'])}"
    return str(err["msg"])


def validation_error(exc: ValidationError) -> BadRequest:
    details = [
        {"field": ".".join(str(part) for part in err["loc"]) or None, "message": _message(err)} for err in exc.errors()
    ]
    fields = ", ".join(d["field"] or "body" for d in details)
    return BadRequest(f"invalid request: {fields}", code="validation_error", details=details)


def request_id(request: Request) -> str:
    """API Gateway's request id (its access log's `requestId`); the Lambda invocation's id where there is no
    gateway (the local server, the test client)."""
    context: Any = request.context or {}
    found = context.get("requestId") or getattr(request.lambda_context, "aws_request_id", None)
    return str(found or uuid.uuid4())


def endpoint(
    bp: Blueprint, path: str, methods: list[str], audit_as: audit.Change | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a route that authenticates, then maps ServiceError and ValidationError to 4xx.

    Every answer carries `X-Request-Id`. `audit_as`: the route changes something, and each success is
    recorded in the tenant's audit log with the key's label and that request id (services/audit.py)."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def handler(**params: Any) -> Any:
            request = bp.current_request
            req_id = request_id(request)
            try:
                deps = get_dependencies()
                caller = identify(deps.keys, request.headers.get("authorization"))
                observability.logger.thread_safe_append_keys(
                    tenant=caller.tenant_id, batch_id=params.get("batch_id"), request_id=req_id
                )
                response = view(ApiRequest(request, caller.tenant_id, deps, caller.key_label, req_id), **params)
                if audit_as is not None and 200 <= response.status_code < 300:
                    _record(deps, caller.tenant_id, caller.key_label, req_id, audit_as, params, response)
            except ServiceError as exc:
                response = error_response(exc)
            except ValidationError as exc:
                response = error_response(validation_error(exc))
            response.headers = {**response.headers, "X-Request-Id": req_id}
            return response

        bp.route(path, methods=methods, content_types=ANY_CONTENT)(handler)
        return view

    return register


def _record(
    deps: Dependencies,
    tenant_id: str,
    key_label: str,
    req_id: str,
    change: audit.Change,
    params: dict[str, str],
    response: Response,
) -> None:
    target_id = params.get(change.param) if change.param else None
    if change.field:
        target_id = json.loads(response.body)[change.field]
    audit.record(deps, tenant_id, key_label, req_id, change.action, audit.target(change.kind, target_id, change.masked))


def public_endpoint(bp: Blueprint, path: str, methods: list[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a route that needs no API key (the API reference); errors are mapped as everywhere else."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def handler(**params: Any) -> Any:
            try:
                return view(bp.current_request, **params)
            except ServiceError as exc:
                return error_response(exc)

        bp.route(path, methods=methods, content_types=ANY_CONTENT)(handler)
        return view

    return register
