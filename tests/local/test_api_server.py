"""The API server answers on 127.0.0.1, serves concurrent requests, stops, and can serve again."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from chalice import Chalice

from local.api_server import ApiServer


def make_app(entered: threading.Event, release: threading.Event) -> Chalice:
    app = Chalice(app_name="tiny")

    def query() -> str:
        assert app.current_request is not None
        params = app.current_request.query_params
        return params.get("q", "") if params else ""

    @app.route("/hello/{name}")
    def hello(name: str) -> dict[str, str]:
        return {"hello": name, "query": query()}

    @app.route("/slow/{name}")
    def slow(name: str) -> dict[str, str]:
        entered.set()
        release.wait(5)
        # Read after blocking: a request served meanwhile must not have replaced ours.
        return {"slow": name, "query": query()}

    return app


def test_serves_concurrent_requests_each_with_its_own_request() -> None:
    entered, release = threading.Event(), threading.Event()
    with ApiServer(make_app(entered, release), port=0) as server, ThreadPoolExecutor(1) as pool:
        assert server.url.startswith("http://127.0.0.1:")
        slow = pool.submit(requests.get, f"{server.url}/slow/a?q=1", timeout=5)
        assert entered.wait(5)
        fast = requests.get(f"{server.url}/hello/b?q=2", timeout=5)  # answered while /slow blocks
        assert fast.json() == {"hello": "b", "query": "2"}
        release.set()
        assert slow.result().json() == {"slow": "a", "query": "1"}


def test_stops_and_serves_the_same_app_again() -> None:
    app = make_app(threading.Event(), threading.Event())
    server = ApiServer(app, port=0)
    url = server.start()
    assert requests.get(f"{url}/hello/x", timeout=5).status_code == 200
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/hello/x", timeout=5)

    with ApiServer(app, port=0) as again:  # chalice's own create_local_server fails here
        assert requests.get(f"{again.url}/hello/y", timeout=5).json()["hello"] == "y"


def make_routed_app() -> Chalice:
    app = Chalice(app_name="routed")

    @app.route("/batches", methods=["POST"])
    def create() -> dict[str, str]:
        return {"created": "yes"}

    @app.route("/boom")
    def boom() -> dict[str, str]:
        raise RuntimeError("a bug")

    return app


SECRET = "bk_live_secret_that_must_never_be_echoed"


def test_an_unknown_path_is_a_404_in_our_shape_that_never_echoes_the_key() -> None:
    # Given a request with an API key, to a path no route matches
    with ApiServer(make_routed_app(), port=0) as server:
        answer = requests.get(f"{server.url}/nowhere/at/all", headers={"Authorization": f"Bearer {SECRET}"}, timeout=5)
    # Then it is our not_found error, and the key appears nowhere in the answer
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert set(body) == {"message", "code", "details"} and body["code"] == "not_found"
    assert SECRET not in answer.text and "Authorization" not in answer.text
    assert all(SECRET not in value for value in answer.headers.values())


def test_a_known_path_with_an_unknown_method_is_a_405_naming_the_allowed_ones() -> None:
    with ApiServer(make_routed_app(), port=0) as server:
        answer = requests.get(f"{server.url}/batches", headers={"Authorization": f"Bearer {SECRET}"}, timeout=5)
        posted = requests.post(f"{server.url}/batches", timeout=5)
    assert answer.status_code == 405
    body = answer.json()
    assert set(body) == {"message", "code", "details"} and body["code"] == "method_not_allowed"
    assert answer.headers["Allow"] == "POST"
    assert SECRET not in answer.text
    assert posted.json() == {"created": "yes"}  # the route itself still answers


def test_a_method_http_server_does_not_know_is_json_too() -> None:
    with ApiServer(make_routed_app(), port=0) as server:
        answer = requests.request("BREW", f"{server.url}/batches", timeout=5)
    assert answer.status_code == 405
    assert answer.json()["code"] == "method_not_allowed"
