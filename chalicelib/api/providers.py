"""Providers' status callbacks: no API key (the provider's signature is the credential)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..errors import ServiceError
from ..services.callbacks import lower_headers, public_base, receive
from ..services.container import get_services
from .http import ANY_CONTENT, error_response

bp = Blueprint(__name__)


@bp.route("/providers/{name}/events", methods=["POST"], content_types=ANY_CONTENT)
def provider_events(name: str) -> Any:
    request = bp.current_request
    raw = request.raw_body or b""
    headers = lower_headers(request.headers)
    svc = get_services()
    try:
        receive(
            svc,
            name,
            dict(request.query_params or {}),
            headers,
            raw.encode() if isinstance(raw, str) else raw,
            public_base(svc.settings.public_base_url, headers, (request.context or {}).get("stage")),
        )
    except ServiceError as exc:
        return error_response(exc)
    return Response(body="", status_code=204)
