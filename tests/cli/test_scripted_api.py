"""The CLI against a scripted API: export (202 polling, a 303 to storage that never sees the API key), odd answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from batchcall_cli.main import app

CSV = "contact_number,customer_name,status\n+12025550123,Alice,completed\n"


class Recorder(BaseHTTPRequestHandler):
    answers: list[tuple[int, dict[str, str], str]]  # popped per request, the last one repeats
    seen: list[tuple[str, dict[str, str]]]

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer()

    def do_DELETE(self) -> None:
        self.answer()

    def answer(self) -> None:
        self.seen.append((f"{self.command} {self.path}" if self.command != "GET" else self.path, dict(self.headers)))
        status, headers, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        data = body.encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return None


def serve(answers: list[tuple[int, dict[str, str], str]]) -> tuple[ThreadingHTTPServer, list[Any]]:
    seen: list[Any] = []
    handler = type("Handler", (Recorder,), {"answers": answers, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


@pytest.fixture
def servers() -> Iterator[list[ThreadingHTTPServer]]:
    started: list[ThreadingHTTPServer] = []
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def test_export_waits_for_202_then_follows_303_without_the_key(
    servers: list[ThreadingHTTPServer], tmp_path: Path
) -> None:
    # Given storage serving the CSV, and an API that answers 202 (preparing) once, then 303 to storage
    storage, storage_seen = serve([(200, {"Content-Type": "text/csv"}, CSV)])
    location = f"http://localhost:{storage.server_address[1]}/exports/b1.csv?X-Amz-Signature=abc"
    api, api_seen = serve(
        [
            (202, {"Retry-After": "1", "Content-Type": "application/json"}, '{"state": "preparing"}'),
            (303, {"Location": location, "Content-Type": "application/json"}, "{}"),
        ]
    )
    servers += [storage, api]
    target = tmp_path / "out.csv"
    # When the export is asked for
    api_url = f"http://127.0.0.1:{api.server_address[1]}"
    args = ["--url", api_url, "--api-key", "bk_secret", "batches", "export", "b1", "-o", str(target)]
    result = CliRunner().invoke(app, args)
    # Then it polled the API until the redirect, and fetched the file from storage
    assert result.exit_code == 0, result.output + result.stderr
    assert target.read_text() == CSV and "Wrote 1 rows" in result.stderr
    assert [path for path, _ in api_seen] == ["/batches/b1/executions.csv"] * 2
    assert all(headers["Authorization"] == "Bearer bk_secret" for _, headers in api_seen)
    # And the API key never went to storage
    assert [path for path, _ in storage_seen] == ["/exports/b1.csv?X-Amz-Signature=abc"]
    assert not any(name.lower() == "authorization" for name in storage_seen[0][1])


@pytest.mark.parametrize("retry_after", ["60", "NaN"])
def test_export_gives_up_at_max_wait_whatever_retry_after_says(
    servers: list[ThreadingHTTPServer], tmp_path: Path, retry_after: str
) -> None:
    # Given an API that keeps answering 202 with a long (or unreadable) Retry-After
    api, _ = serve([(202, {"Retry-After": retry_after, "Content-Type": "application/json"}, "{}")])
    servers.append(api)
    api_url = f"http://127.0.0.1:{api.server_address[1]}"
    target = str(tmp_path / "out.csv")
    args = ["--url", api_url, "--api-key", "k", "batches", "export", "b1", "-o", target, "--max-wait", "1"]
    # When the export waits at most 1 s
    started = time.monotonic()
    result = CliRunner().invoke(app, args)
    # Then it gives up about then with exit 5, not after the server's 60 s, and not with a crash
    assert time.monotonic() - started < 10
    assert result.exit_code == 5, result.stderr
    assert result.stderr == "error: the export of batch b1 is not ready after 1 s\n"


def test_an_export_storage_refuses_is_one_line(servers: list[ThreadingHTTPServer], tmp_path: Path) -> None:
    storage, _ = serve([(403, {"Content-Type": "application/xml"}, "<Error><Code>AccessDenied</Code></Error>")])
    api, _ = serve([(303, {"Location": f"http://127.0.0.1:{storage.server_address[1]}/x.csv"}, "{}")])
    servers += [storage, api]
    api_url = f"http://127.0.0.1:{api.server_address[1]}"
    args = ["--url", api_url, "--api-key", "k", "batches", "export", "b1", "-o", str(tmp_path / "out.csv")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr == "error: the export URL answered HTTP 403\n"
    assert not (tmp_path / "out.csv").exists()


def test_an_answer_the_cli_does_not_expect_is_one_line_too(servers: list[ThreadingHTTPServer]) -> None:
    # Given an API (or a proxy in front of it) answering 200 with something that is not the agents list
    api, _ = serve([(200, {"Content-Type": "application/json"}, '{"unexpected": true}')])
    servers.append(api)
    # When the agents are listed, Then it is one line on stderr and exit 1, not a traceback
    result = list_agents(api)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unexpected ") and result.stderr.count("\n") == 1, result.stderr
    assert "BATCHCALL_DEBUG=1" in result.stderr


def test_a_proxy_error_page_is_one_line(servers: list[ThreadingHTTPServer]) -> None:
    api, _ = serve([(502, {"Content-Type": "text/html"}, "<html>\n<body>Bad gateway</body>\n</html>")])
    servers.append(api)
    result = list_agents(api)
    assert result.exit_code == 1
    assert result.stderr == "error: <html> <body>Bad gateway</body> </html> (error, HTTP 502)\n"


def test_an_error_detail_without_a_message_still_prints_the_apis_message(servers: list[ThreadingHTTPServer]) -> None:
    # Given an API error whose details name a field but carry facts rather than a message (as the
    # schedule-lead limit does)
    body = {
        "message": "scheduled_at '9999-12-31T23:59:59Z' is more than 365 days ahead",
        "code": "scheduled_at_too_far",
        "details": [{"field": "scheduled_at", "max_lead_days": 365, "latest": "2027-11-30T11:03:48Z"}],
    }
    api, _ = serve([(400, {"Content-Type": "application/json"}, json.dumps(body))])
    servers.append(api)
    # When a command meets it, Then the API's message and code are printed as one line, not "unexpected KeyError"
    result = list_agents(api)
    assert result.exit_code == 1
    assert result.stderr == f"error: {body['message']} (scheduled_at_too_far, HTTP 400)\n", result.stderr


@pytest.mark.parametrize("batch_id", ["../agents/a1", "b1/../../agents/a1", "b1?x=1", "b1#frag", "."])
def test_an_id_that_would_reach_another_route_is_refused_before_any_request(
    servers: list[ThreadingHTTPServer], batch_id: str
) -> None:
    # Given an id taken from somewhere untrusted (a webhook, a file) that would leave /batches/{id}
    api, seen = serve([(200, {"Content-Type": "application/json"}, '{"message": "success"}')])
    servers.append(api)
    url = f"http://127.0.0.1:{api.server_address[1]}"
    # When a batch is deleted by that id
    result = CliRunner().invoke(app, ["--url", url, "--api-key", "k", "batches", "delete", batch_id, "--yes"])
    # Then nothing was sent (`DELETE /agents/a1` would delete an agent) and the error is one line
    assert seen == []
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def list_agents(api: ThreadingHTTPServer) -> Any:
    url = f"http://127.0.0.1:{api.server_address[1]}"
    return CliRunner().invoke(app, ["--url", url, "--api-key", "k", "agents", "list"])


def test_a_presigned_upload_storage_refuses_is_one_line_and_leaves_no_batch(
    servers: list[ThreadingHTTPServer], tmp_path: Path
) -> None:
    # Given storage that refuses the POST (an expired policy), behind a presigned upload
    storage, storage_seen = serve([(403, {"Content-Type": "application/xml"}, S3_REFUSAL)])
    upload = {"batch_id": "b2", "state": "validating", "max_bytes": 10**6}
    upload["upload"] = {"url": f"http://127.0.0.1:{storage.server_address[1]}/", "fields": {"key": "uploads/b2.csv"}}
    api, api_seen = serve(
        [(201, {"Content-Type": "application/json"}, json.dumps(upload)), (200, {}, '{"state": "deleted"}')]
    )
    servers += [storage, api]
    contacts = tmp_path / "c.csv"
    contacts.write_text("contact_number\n+12025550123\n")
    # When a batch is created through it
    url = f"http://127.0.0.1:{api.server_address[1]}"
    result = CliRunner().invoke(
        app, ["--url", url, "--api-key", "k", "batches", "create", str(contacts), "-a", "a1", "--presigned"]
    )
    # Then storage's own message is one line, and the batch left validating is deleted
    assert result.exit_code == 1
    assert result.stderr == "error: the storage service refused the upload: Policy expired. (HTTP 403)\n"
    assert [path for path, _ in storage_seen] == ["POST /"]
    assert [path for path, _ in api_seen] == ["POST /batches/uploads", "DELETE /batches/b2"]


S3_REFUSAL = "<Error><Code>AccessDenied</Code><Message>Policy expired.</Message></Error>"
