"""GET /openapi.json and GET /docs: the API reference, served without an API key."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import urljoin, urlsplit

from chalice.test import Client

from chalicelib.api.openapi import document


def test_the_openapi_document_needs_no_key(client: Client) -> None:
    # When anyone asks for the document, without an Authorization header
    response = client.http.get("/openapi.json")
    # Then it is the generated OpenAPI 3.1 document, as JSON
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body) == document()


def test_docs_is_a_self_contained_page_under_a_strict_policy(client: Client) -> None:
    response = client.http.get("/docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.body.decode()
    policy = response.headers["Content-Security-Policy"]
    # Then nothing is loaded from elsewhere (no CDN): no src or href to another origin
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "unsafe-inline" not in policy
    # And the one inline script and style are allowed by their hash, nothing else
    script = re.search(r"<script>(.*)</script>", page, re.S)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert 'fetch("openapi.json"' in page  # relative: works under an API Gateway stage prefix too


def test_other_routes_still_need_the_key(client: Client) -> None:
    response = client.http.get("/agents")
    assert response.status_code == 401
    assert json.loads(response.body)["code"]


def test_docs_opened_with_a_trailing_slash_still_finds_the_document(client: Client) -> None:
    # Given a reader who types /docs/ (the page fetches the document relative to itself)
    page_url = "http://127.0.0.1:8000/docs/"
    response = client.http.get(urlsplit(page_url).path)
    if response.status_code in (301, 302, 307, 308):
        page_url = urljoin(page_url, response.headers["Location"])
        response = client.http.get(urlsplit(page_url).path)
    # Then the page they end on can fetch the document it renders
    assert response.status_code == 200
    fetched = re.findall(r'fetch\("([^"]+)"', response.body.decode())
    assert fetched == ["openapi.json"]
    document_url = urljoin(page_url, fetched[0])
    assert client.http.get(urlsplit(document_url).path).status_code == 200, document_url
