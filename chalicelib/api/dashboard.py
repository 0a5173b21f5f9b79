"""The web dashboard: one HTML page and its flat static files, served without an API key.

The page is a client of the public JSON API only (the key is typed in the browser, kept in
sessionStorage and sent as `Authorization: Bearer`), so these routes serve files and nothing else.
Every answer carries a strict Content-Security-Policy: scripts and styles from this origin only,
no inline code, no eval; `connect-src` adds the S3 origin that presigned uploads and large exports use.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response

from ..errors import NotFound
from ..services.container import get_dependencies
from .http import error_response

bp = Blueprint(__name__)
STATIC = Path(__file__).resolve().parent.parent / "dashboard" / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\.(js|css|svg)$")


def content_security_policy() -> str:
    # the S3 origins of presigned uploads (POST) and exports (GET), which the browser reaches directly
    connect = " ".join(("'self'", *get_dependencies().blobs.browser_origins()))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@functools.cache
def _read(name: str) -> tuple[str, str]:
    """A static file's text and its ETag (files only change with a deploy)."""
    text = (STATIC / name).read_text(encoding="utf-8")
    return text, '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def _serve(name: str) -> Response:
    text, etag = _read(name)
    headers: dict[str, str | list[str]] = {
        "Content-Type": CONTENT_TYPES[Path(name).suffix],
        "Content-Security-Policy": content_security_policy(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-cache",  # revalidate with the ETag: a deploy is seen at once
        "ETag": etag,
    }
    request_headers: Any = bp.current_request.headers or {}
    if request_headers.get("if-none-match") == etag:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=text, status_code=200, headers=headers)


@bp.route("/", methods=["GET"])
def root() -> Response:
    return Response(body="", status_code=302, headers={"Location": "dashboard", "Cache-Control": "no-cache"})


@bp.route("/dashboard", methods=["GET"])
def page() -> Response:
    path = (bp.current_request.context or {}).get("path") or ""
    if path.endswith("/"):  # `/dashboard/` would resolve the page's relative file links under /dashboard/dashboard/
        return Response(body="", status_code=302, headers={"Location": "../dashboard", "Cache-Control": "no-cache"})
    return _serve("index.html")


@bp.route("/dashboard/{file}", methods=["GET"])
def asset(file: str) -> Response:
    if not ASSET_NAME.match(file) or not (STATIC / file).is_file():
        response = error_response(NotFound(f"no dashboard file named {file[:100]}"))
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    return _serve(file)
