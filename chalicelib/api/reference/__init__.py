"""The API reference, open to anyone (no API key): GET /openapi.json and GET /docs.

/docs is one self-contained HTML page (docs.html, with docs.css and docs.js inlined) that
renders /openapi.json with plain JavaScript: no CDN, no build step. Its Content-Security-
Policy allows exactly those inline blocks (by hash) and a same-origin fetch, nothing else.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from ..http import public_endpoint
from ..openapi import document

bp = Blueprint(__name__)
HERE = Path(__file__).resolve().parent


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@functools.cache
def page() -> tuple[str, str]:
    """The HTML and the CSP that allows exactly its inline style and script."""
    style = (HERE / "docs.css").read_text(encoding="utf-8")
    script = (HERE / "docs.js").read_text(encoding="utf-8")
    html = (HERE / "docs.html").read_text(encoding="utf-8")
    html = html.replace("/*STYLE*/", style).replace("/*SCRIPT*/", script)
    policy = (
        f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(style)}; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, policy


@public_endpoint(bp, "/openapi.json", ["GET"])
def openapi_json(request: Request) -> Any:
    return Response(
        body=json.dumps(document(), ensure_ascii=False),
        status_code=200,
        headers={"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"},
    )


@public_endpoint(bp, "/docs", ["GET"])
def docs(request: Request) -> Any:
    if ((request.context or {}).get("path") or "").endswith("/"):  # `/docs/` would fetch /docs/openapi.json
        return Response(body="", status_code=302, headers={"Location": "../docs", "Cache-Control": "no-cache"})
    html, policy = page()
    return Response(
        body=html,
        status_code=200,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
