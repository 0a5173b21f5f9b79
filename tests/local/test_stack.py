"""The stack composes everything, undoes its environment, and `python -m local` stops cleanly on a signal."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib import aws, resources
from chalicelib.settings import get_settings
from local import stack as stack_module
from local import wait_until
from local.stack import PROJECT_ROOT, LocalStack

CONFIG = {
    "version": "2.0",
    "app_name": "tiny",
    "environment_variables": {"FROM_CONFIG": "top"},
    "stages": {"dev": {"environment_variables": {"SIMULATOR_SPEED": "1", "STAGE_VAR": "dev"}}},
}


def write_project(root: Path, app_source: str | None = None) -> Path:
    (root / ".chalice").mkdir()
    (root / ".chalice" / "config.json").write_text(json.dumps(CONFIG))
    if app_source is not None:
        (root / "app.py").write_text(app_source)
    return root


def make_app(seen: list[str]) -> Chalice:
    """A route that enqueues, a consumer of the control queue, and a rate rule: one of each event source."""
    settings = get_settings()
    control = resources.queue_name(settings, resources.CONTROL_QUEUE)
    app = Chalice(app_name="tiny")
    lock = threading.Lock()

    @app.route("/enqueue/{word}", methods=["POST"])
    def enqueue(word: str) -> dict[str, str]:
        url = aws.sqs().get_queue_url(QueueName=control)["QueueUrl"]
        aws.sqs().send_message(QueueUrl=url, MessageBody=json.dumps({"word": word}))
        return {"queued": word}

    @app.on_sqs_message(queue=control, batch_size=5, name="dispatcher")
    def dispatcher(event: SQSEvent) -> None:
        with lock:
            seen.extend(json.loads(record.body)["word"] for record in event)

    @app.schedule(Rate(1, unit=Rate.MINUTES), name="sweeper")
    def sweeper(event: CloudWatchEvent) -> None:
        with lock:
            seen.append("swept")

    return app


def test_runs_api_queues_schedules_and_rules_then_restores_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOURCE_PREFIX", f"s{uuid.uuid4().hex[:8]}")
    monkeypatch.delenv("SIMULATOR_SPEED", raising=False)
    get_settings.cache_clear()
    seen: list[str] = []
    app = make_app(seen)
    before = dict(os.environ)  # after Chalice(), which sets AWS_EXECUTION_ENV itself
    project = write_project(tmp_path)
    stack = LocalStack(project_dir=project, app=app, api_port=0, seed=False, rules_interval=0.1)

    with stack:
        assert os.environ["AWS_ENDPOINT_URL"] == stack.aws_url
        assert os.environ["FROM_CONFIG"] == "top" and os.environ["STAGE_VAR"] == "dev"
        assert os.environ["SIMULATOR_SPEED"] == "30"  # the local default beats the dev stage's value
        assert os.environ["STAGE"] == before["STAGE"]  # what the caller exported wins

        answer = requests.post(f"{stack.api_url}/enqueue/hello", timeout=5)
        assert answer.json() == {"queued": "hello"}
        assert wait_until(lambda: "hello" in seen)

        settings = get_settings()
        aws.scheduler().create_schedule(
            Name="now",
            GroupName=resources.schedule_group_name(settings),
            ScheduleExpression=f"at({datetime.now(UTC):%Y-%m-%dT%H:%M:%S})",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={
                "Arn": resources.queue_arn(settings, resources.CONTROL_QUEUE),
                "RoleArn": settings.scheduler_role_arn,
                "Input": json.dumps({"word": "scheduled"}),
            },
        )
        assert wait_until(lambda: "scheduled" in seen and "swept" in seen)
        url = stack.api_url

    assert dict(os.environ) == before
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{url}/enqueue/late", timeout=5)


def test_a_second_stack_in_the_process_serves_with_its_own_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiers that each start a stack (browser, e2e) share a process: the services must not outlive one."""
    from chalicelib.services.container import get_dependencies

    monkeypatch.setenv("RESOURCE_PREFIX", f"s{uuid.uuid4().hex[:8]}")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)  # as a user runs it: the stack's own URL
    project = write_project(tmp_path)
    # Given a stack that served (its services built) and stopped
    with LocalStack(project_dir=project, app=Chalice(app_name="tiny"), api_port=0, seed=False):
        assert get_dependencies().settings.export_inline_max_rows != 10
    # When another starts with other settings
    monkeypatch.setenv("EXPORT_INLINE_MAX_ROWS", "10")
    with LocalStack(project_dir=project, app=Chalice(app_name="tiny"), api_port=0, seed=False) as second:
        settings = get_dependencies().settings
        # Then its services read them, and call back to its own URL, not the stopped stack's
        assert settings.export_inline_max_rows == 10
        assert settings.public_base_url == second.api_url


TINY_APP = """
from chalice import Chalice

app = Chalice(app_name="tiny")


@app.route("/")
def index():
    return {"ok": True}
"""


def test_python_m_local_serves_then_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    project = write_project(tmp_path, TINY_APP)
    command = [sys.executable, "-m", "local", "--port", "0", "--no-seed", "--quiet"]
    command += ["--project-dir", str(project)]
    out = subprocess.PIPE
    proc = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    lines: queue.SimpleQueue[str] = queue.SimpleQueue()
    output: list[str] = []

    def read() -> None:
        for line in proc.stdout or []:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()

    def api_url() -> str | None:
        while not lines.empty():
            output.append(lines.get())
        api = [line.split()[1] for line in output if line.strip().startswith("API ")]
        return api[0] if api else None

    try:
        assert wait_until(lambda: api_url() is not None or proc.poll() is not None, timeout=30), output
        url = api_url()
        assert url, "".join(output)
        assert requests.get(url, timeout=5).json() == {"ok": True}
        assert any("curl -s -X POST $URL/batches" in line for line in output)

        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0, "".join(output)
        assert time.monotonic() - started < 3  # most of it is the interpreter's own teardown
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_main_stops_on_sigterm_and_restores_the_signal_handlers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process, `app` imported from the project dir (not a cached one): SIGTERM ends `main()` with 0."""
    project = write_project(tmp_path, TINY_APP)
    monkeypatch.syspath_prepend(str(project))
    cached_app = sys.modules.pop("app", None)  # the project's own, if a test imported it: put back after
    started: list[LocalStack] = []

    def record(stack: LocalStack) -> str:
        started.append(stack)
        return ""

    monkeypatch.setattr(stack_module, "banner", record)
    answers: list[object] = []

    def client() -> None:
        if wait_until(lambda: started, timeout=30):
            answers.append(requests.get(started[0].api_url, timeout=5).json())
        os.kill(os.getpid(), signal.SIGTERM)

    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    threading.Thread(target=client, daemon=True).start()
    try:
        assert stack_module.main(["--port", "0", "--no-seed", "--quiet", "--project-dir", str(project)]) == 0
    finally:
        sys.modules.pop("app", None)
        if cached_app is not None:
            sys.modules["app"] = cached_app
    assert answers == [{"ok": True}]
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
