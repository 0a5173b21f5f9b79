"""The API server answers on 127.0.0.1, serves concurrent requests, stops, and can serve again."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from chalice import Chalice

from local import api_server, wait_until
from local.api_server import ApiServer
from local.keepalive import live


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


def test_a_client_gone_before_its_answer_ends_its_connection_quietly(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    entered, release = threading.Event(), threading.Event()
    caplog.set_level(logging.DEBUG, logger="local.keepalive")
    with ApiServer(make_app(entered, release), port=0) as server:
        port = server.http_server.server_address[1]
        # Given a request the app is still answering
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"GET /slow/a HTTP/1.1\r\nHost: x\r\n\r\n")
            assert entered.wait(5)
            # When its client goes away (a reset, as a browser aborting a fetch sends)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        release.set()
        # Then the server drops the connection, says so at debug, and prints no traceback
        assert wait_until(lambda: not live(server.http_server), timeout=5, interval=0.01)
    assert "went away" in caplog.text
    assert "Traceback" not in capfd.readouterr().err


def make_routed_app() -> Chalice:
    app = Chalice(app_name="routed")

    @app.route("/batches", methods=["POST"])
    def create() -> dict[str, str]:
        return {"created": "yes"}

    @app.route("/echo", methods=["POST"])
    def echo() -> dict[str, Any]:
        request = app.current_request
        assert request is not None
        return {"body": request.json_body, "length": request.headers.get("content-length")}

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


def test_requests_share_one_connection_whose_answers_are_never_held_back() -> None:
    # Given one connection to the API server
    with ApiServer(make_routed_app(), port=0) as server:
        connection = http.client.HTTPConnection(*server_address(server), timeout=5)
        # When three requests go over it, one with a body
        answers = []
        for method, body in (("POST", b"x" * 70_000), ("GET", None), ("POST", b"{}")):
            connection.request(method, "/batches", body=body)
            response = connection.getresponse()
            answers.append((response.status, response.read(), response.will_close))
        # Then each is answered in turn and the connection stays open
        assert [a[0] for a in answers] == [200, 405, 200] and not any(a[2] for a in answers)
        # And on the server's side it sends each answer at once: with Nagle's algorithm an answer's body (a
        # second write, after its headers) waits for the client's delayed ACK, 40 ms a request kept alive
        [open_connection] = live(server.http_server)
        assert open_connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        connection.close()


def test_a_chunked_body_reaches_the_app_whole_and_the_connection_goes_on() -> None:
    """A chunked body was never read: the app got an empty body, and the connection closed with the chunks unread
    (the client's next chunk then met a reset: a broken pipe in CI)."""
    with ApiServer(make_routed_app(), port=0) as server:
        connection = http.client.HTTPConnection(*server_address(server), timeout=5)
        # When a body is sent in chunks
        connection.request(
            "POST",
            "/echo",
            body=iter([b'{"a":', b" 1}"]),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        # Then the app gets it whole, with its length, and the connection stays open for the next request
        assert (response.status, response.will_close) == (200, False)
        assert json.loads(response.read()) == {"body": {"a": 1}, "length": "8"}
        connection.request("POST", "/batches", body=b"{}")
        assert connection.getresponse().status == 200
        connection.close()


@pytest.mark.parametrize(
    "head_and_body",
    [
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",  # a chunk size that is not hexadecimal
        b"Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",  # a chunk longer than its size
        b"Content-Length: ten\r\n\r\n",
    ],
    ids=["bad-chunk-size", "chunk-overrun", "length-not-a-number"],
)
def test_a_body_whose_length_cannot_be_known_is_a_400_and_the_connection_closes(head_and_body: bytes) -> None:
    with ApiServer(make_routed_app(), port=0) as server, socket.create_connection(server_address(server)) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\n" + head_and_body)
        stream = sock.makefile("rb")
        status, headers = read_head(stream)
        assert status.startswith(b"HTTP/1.1 400") and headers[b"connection"] == b"close"
        assert json.loads(stream.read(int(headers[b"content-length"])))["code"] == "bad_request"


def test_a_chunked_body_past_the_payload_limit_is_a_413(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a payload limit of 4 bytes (API Gateway's is 10 MiB)
    monkeypatch.setattr(api_server, "MAX_BODY_BYTES", 4)
    with ApiServer(make_routed_app(), port=0) as server, socket.create_connection(server_address(server)) as sock:
        # When a chunk announces 5 bytes, Then the answer is a 413 before it is read
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n")
        status, _ = read_head(sock.makefile("rb"))
        assert status.startswith(b"HTTP/1.1 413")


def test_an_answer_to_head_has_no_body_and_the_connection_goes_on() -> None:
    with ApiServer(make_routed_app(), port=0) as server, socket.create_connection(server_address(server)) as sock:
        # Given one connection: a HEAD (no route takes it: a 405 with a JSON error), then a POST
        sock.sendall(b"HEAD /batches HTTP/1.1\r\nHost: x\r\n\r\nPOST /batches HTTP/1.1\r\nHost: x\r\n\r\n")
        stream = sock.makefile("rb")
        head = read_head(stream)
        # Then the HEAD's answer is headers only (its Content-Length is the body a GET would get), and the
        # POST's answer follows it directly
        assert head[0].startswith(b"HTTP/1.1 405") and int(head[1][b"content-length"]) > 0
        after = read_head(stream)
        assert after[0].startswith(b"HTTP/1.1 200")
        assert stream.read(int(after[1][b"content-length"])) == b'{"created":"yes"}'


def test_a_stopped_server_answers_nothing_on_a_kept_alive_connection() -> None:
    # Given a client whose connection to the API server is open
    server = ApiServer(make_routed_app(), port=0)
    server.start()
    with requests.Session() as session:
        assert session.post(f"{server.url}/batches", timeout=5).status_code == 200
        url = server.url
        # When the server stops, Then that connection is closed too: no answer from a stopped server
        server.stop()
        with pytest.raises(requests.ConnectionError):
            session.post(f"{url}/batches", timeout=5)


def server_address(server: ApiServer) -> tuple[str, int]:
    host, _, port = server.url.removeprefix("http://").partition(":")
    return host, int(port)


def read_head(stream: Any) -> tuple[bytes, dict[bytes, bytes]]:
    """One answer's status line and headers (names lower-cased), read off a raw connection."""
    status = stream.readline()
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return status, headers
