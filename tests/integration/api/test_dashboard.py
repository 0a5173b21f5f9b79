"""The dashboard's page and files: served without a key, under a strict CSP, and never with inline code."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

import pytest
from chalice.test import Client

from chalicelib.api.dashboard import STATIC

UNSAFE_JS = r"\beval\(|new Function\(|innerHTML|outerHTML|insertAdjacentHTML|document\.write"
ASSETS = sorted(p.name for p in STATIC.iterdir() if p.suffix in (".js", ".css", ".svg"))


def _csp(headers: dict[str, str]) -> dict[str, str]:
    directives = [d.strip() for d in headers["Content-Security-Policy"].split(";") if d.strip()]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in directives}


def test_the_page_is_html_under_a_strict_csp_and_needs_no_key(client: Client) -> None:
    # When a browser opens /dashboard with no Authorization header
    answer = client.http.get("/dashboard")
    # Then it gets the page, with a policy that allows only this origin's scripts and styles
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="dashboard/app.js">' in answer.body
    csp = _csp(answer.headers)
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    assert csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    # connect-src: the API itself and the S3 origin presigned uploads go to, nothing else
    sources = csp["connect-src"].split()
    assert sources[0] == "'self'"
    assert all(s.startswith("https://") and "amazonaws.com" in s for s in sources[1:]) and len(sources) > 1
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
def test_assets_are_served_with_their_type_and_the_same_policy(client: Client, name: str, content_type: str) -> None:
    answer = client.http.get(f"/dashboard/{name}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == content_type
    assert _csp(answer.headers)["script-src"] == "'self'"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_every_module_the_page_imports_is_served(client: Client) -> None:
    # Given the modules app.js imports, directly or through other modules
    seen: set[str] = set()
    todo = ["app.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        answer = client.http.get(f"/dashboard/{name}")
        assert answer.status_code == 200, name
        todo += re.findall(r'from "\./([a-z0-9-]+\.js)"', answer.body.decode())
    assert {"api.js", "agents.js", "batches.js", "upload.js", "detail.js", "settings.js"} <= seen


def test_an_unchanged_file_answers_304_to_its_etag(client: Client) -> None:
    first = client.http.get("/dashboard/app.js")
    again = client.http.get("/dashboard/app.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.body == b""


@pytest.mark.parametrize("name", ["nope.js", "index.html", "..%2Fapp.py", "APP.JS", "app.py", "__init__.py"])
def test_an_unknown_file_is_a_404_in_our_json_shape(client: Client, name: str) -> None:
    answer = client.http.get(f"/dashboard/{name}")
    assert answer.status_code == 404
    body = json.loads(answer.body)
    assert body["code"] == "not_found"
    assert set(body) == {"message", "code", "details"}


def test_the_root_redirects_to_the_dashboard(client: Client) -> None:
    answer = client.http.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "dashboard"


def test_the_page_opened_with_a_trailing_slash_still_finds_its_files(client: Client) -> None:
    # Given a user who types /dashboard/ (the page links its files relative to itself)
    page_url = "http://127.0.0.1:8000/dashboard/"
    answer = client.http.get(urlsplit(page_url).path)
    if answer.status_code in (301, 302, 307, 308):
        page_url = urljoin(page_url, answer.headers["Location"])
        answer = client.http.get(urlsplit(page_url).path)
    # Then the page they end on loads its script, style and icon (not a blank page of 404s)
    assert answer.status_code == 200
    links = re.findall(r'(?:src|href)="(dashboard/[^"]+)"', answer.body.decode())
    assert len(links) == 3
    for link in links:
        assert client.http.get(urlsplit(urljoin(page_url, link)).path).status_code == 200, urljoin(page_url, link)


def test_no_file_holds_inline_script_style_or_eval() -> None:
    # The CSP forbids inline code: a file that needed it would break in the browser, so none may have it
    html = (STATIC / "index.html").read_text()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag
    assert re.search(r"<script\b[^>]*>\s*[^<\s]", html) is None  # no inline body
    assert "<style" not in html
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers
    assert " style=" not in html
    for name in ASSETS:
        text = (STATIC / name).read_text()
        assert re.search(UNSAFE_JS, text) is None, name
        assert 'setAttribute("style"' not in text, name
        assert "javascript:" not in text, name


def test_the_api_key_is_never_put_in_a_url_or_logged() -> None:
    for name in ASSETS:
        text = (STATIC / name).read_text()
        assert "console." not in text, name
        assert "localStorage" not in text, name  # sessionStorage only: the key leaves with the tab
    api = (STATIC / "api.js").read_text()
    assert 'Authorization = "Bearer " + key' in api
