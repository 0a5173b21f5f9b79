"""Providers' status callbacks: no API key (the provider's signature is the credential)."""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint, Response

from ..domain import json_input
from ..domain.json_input import JsonInputError
from ..errors import BadRequest, ServiceError
from ..services.callbacks import lower_headers, public_base, receive
from ..services.container import get_dependencies
from .http import ANY_CONTENT, error_response

bp = Blueprint(__name__)


@bp.route("/providers/{name}/events", methods=["POST"], content_types=ANY_CONTENT)
def provider_events(name: str) -> Any:
    request = bp.current_request
    raw = request.raw_body or b""
    headers = lower_headers(request.headers)
    deps = get_dependencies()
    body = raw.encode() if isinstance(raw, str) else raw
    try:
        if body.lstrip()[:1] in (b"{", b"["):  # a JSON callback: bounded before any library parses it
            _bounded_json(body)
        receive(
            deps,
            name,
            dict(request.query_params or {}),
            headers,
            body,
            public_base(deps.settings.public_base_url, headers, (request.context or {}).get("stage")),
        )
    except ServiceError as exc:
        return error_response(exc)
    return Response(body="", status_code=204)


def _bounded_json(body: bytes) -> None:
    """Too deep (a RecursionError in the verifier) or not valid Unicode (unstorable): 400, before verifying.

    Anything else that is not JSON is left to the provider's verifier, which refuses it as forged.
    """
    text = body.decode("utf-8", "replace")
    try:
        if json_input.depth(text) > json_input.MAX_DEPTH:
            raise JsonInputError(f"the JSON nests deeper than {json_input.MAX_DEPTH} levels")
        try:
            data = json.loads(text)
        except ValueError:
            return
        json_input.check_text(data)
    except JsonInputError as exc:
        details = [{"field": exc.field, "message": exc.message}] if exc.field else []
        raise BadRequest(exc.message, code="invalid_json", details=details) from None
