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
