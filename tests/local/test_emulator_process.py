"""The emulator runs in a process of its own (a core apart from the service) and never outlives the stack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from chalice import Chalice

from chalicelib import aws
from local import wait_until
from local.emulator_process import EmulatorProcess
from local.stack import PROJECT_ROOT, LocalStack
from local.wal import DataError

from .test_stack import TINY_APP, write_project


def gone(pid: int) -> bool:
    """No such process, or only its exit status left (a zombie no one reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_the_stack_serves_aws_from_another_process_and_stops_it(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    with LocalStack(project_dir=project, app=Chalice(app_name="tiny"), api_port=0, seed=False) as stack:
        # Given a running stack, its emulator is another process, and the service's clients reach it
        pid = stack.emulator.pid
        assert pid is not None and pid != os.getpid()
        assert "QueueUrls" in aws.sqs().list_queues()
    # When the stack stops, then so has the emulator's process
    assert gone(pid)


def test_a_refused_data_directory_is_reported_by_the_parent(tmp_path: Path) -> None:
    # Given a data directory a running emulator holds, when another emulator starts on it,
    # then it refuses with the reason (not a crash of its child)
    refused = pytest.raises(DataError, match="another local stack is using this data directory")
    with EmulatorProcess(data_dir=tmp_path), refused:
        EmulatorProcess(data_dir=tmp_path).start()


def test_a_killed_stack_leaves_no_emulator_behind(tmp_path: Path) -> None:
    # Given `python -m local` serving on a data directory
    (tmp_path / "project").mkdir()
    project = write_project(tmp_path / "project", TINY_APP)
    data = tmp_path / "data"
    command = [sys.executable, "-m", "local", "--port", "0", "--no-seed", "--quiet", "--data", str(data)]
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    process = subprocess.Popen(
        [*command, "--project-dir", str(project)], cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL
    )
    try:
        status = data / "stack.json"
        assert wait_until(status.exists, timeout=60, interval=0.1), "the stack did not start"
        started = json.loads(status.read_text())
        emulator = started["aws_pid"]
        assert emulator != process.pid
        assert requests.get(f"{started['aws_url']}/moto-api/", timeout=5).status_code < 500

        # When the stack is killed (kill -9: no clean stop)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

        # Then its emulator exits too (and releases the data directory for the next start)
        assert wait_until(lambda: gone(emulator), timeout=10), f"emulator process {emulator} still running"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
