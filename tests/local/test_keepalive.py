"""The emulator's server keeps connections open between requests, and never answers from a stopped server."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import boto3
import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from local.emulator import Emulator
from local.keepalive import KeepAliveHandler, live


def echo_path(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answers with the path and never reads the body (moto's errors can leave it unread too)."""
    body = environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


@pytest.fixture
def server() -> Iterator[BaseWSGIServer]:
    server = make_server("127.0.0.1", 0, echo_path, threaded=True, request_handler=KeepAliveHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_requests_share_one_connection_even_when_a_body_was_not_read(server: BaseWSGIServer) -> None:
    # Given one connection to the server
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)

    # When three requests with bodies the application never reads go over it
    answers = []
    for path in ("/one", "/two", "/three"):
        connection.request("POST", path, body=b"x" * 70_000, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        answers.append((response.read(), response.will_close, response.getheader("Content-Length")))

    # Then each is answered in turn, with its length, and the connection stays open
    assert answers == [(b"/one", False, "4"), (b"/two", False, "4"), (b"/three", False, "6")]
    assert len(live(server)) == 1
    connection.close()


def test_a_chunked_request_is_answered_and_its_connection_closed(server: BaseWSGIServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    connection.request("POST", "/chunked", body=iter([b"abc", b"def"]), encode_chunked=True)
    response = connection.getresponse()
    assert (response.read(), response.will_close) == (b"/chunked", True)


def test_a_stopped_emulator_answers_nothing_on_a_kept_alive_connection() -> None:
    # Given a client whose pooled connection to the emulator is open
    emulator = Emulator()
    emulator.start()
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    connection.request("POST", "/moto-api/reset")
    assert connection.getresponse().read() is not None
    client = boto3.client("sqs", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    assert "QueueUrls" not in client.list_queues()

    # When the emulator stops
    emulator.stop()

    # Then that connection answers nothing any more (it does not reach the old server's state)
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        connection.request("POST", "/moto-api/reset")
        connection.getresponse().read()
