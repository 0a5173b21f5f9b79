"""`batchcall` against the local stack: a campaign from a terminal, as the README shows it."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from batchcall_cli.main import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "contacts.csv"
BATCHCALL = Path(sys.executable).parent / "batchcall"  # installed by the Makefile (`pip install -e .`)


def batch_id_in(output: str) -> str:
    found = re.search(r"Batch ([0-9a-f]{32}) created", output)
    assert found, output
    return found.group(1)


def test_create_run_watch_export(stack: Any, cli_env: dict[str, str], runner: CliRunner, tmp_path: Path) -> None:
    # Given the sample CSV (9 rows: 7 valid, 1 invalid, 1 duplicate)
    # When it is created and started from the terminal
    created = runner.invoke(app, ["batches", "create", str(SAMPLE), "--agent", stack.agent_id, "--run"], env=cli_env)
    # Then the counts and the two skipped rows are shown, and the batch is starting
    assert created.exit_code == 0, created.output + created.stderr
    assert "9 rows, 7 valid, 1 invalid, 1 duplicate" in created.stdout
    assert re.search(r"9\s+.*invalid_number\s+.*\+1202555012", created.stdout), created.stdout
    assert re.search(r"10\s+.*duplicate\s+.*duplicate of row 2", created.stdout), created.stdout
    assert "State: starting now" in created.stdout
    batch_id = batch_id_in(created.stdout)
    # When it is watched: the command returns once the batch is final, with exit code 0 for completed
    watched = runner.invoke(app, ["batches", "watch", batch_id, "--interval", "0.3", "--max-wait", "100"], env=cli_env)
    assert watched.exit_code == 0, watched.output + watched.stderr
    assert f"batch {batch_id} completed: 7/7 calls final" in watched.stdout
    # And the export writes the results: a header and one row per valid contact
    target = tmp_path / "results.csv"
    exported = runner.invoke(app, ["batches", "export", batch_id, "-o", str(target)], env=cli_env)
    assert exported.exit_code == 0, exported.output + exported.stderr
    rows = list(csv.reader(target.open(newline="", encoding="utf-8-sig")))
    assert rows[0][:3] == ["contact_number", "customer_name", "plan"] and "status" in rows[0]
    assert len(rows) == 1 + 7
    assert {r[1] for r in rows[1:]} == {
        "Alice Johnson", "Bob Martinez", "Carol Nguyen", "Asha Iyer", "Ravi Kumar", "Oliver Smith", "Emily Clarke"
    }  # fmt: skip
    assert "Wrote 7 rows" in exported.stderr


def test_a_stopped_batch_makes_watch_exit_4(stack: Any, cli_env: dict[str, str], runner: CliRunner) -> None:
    # Given a batch scheduled an hour ahead
    created = runner.invoke(
        app, ["batches", "create", str(SAMPLE), "-a", stack.agent_id, "--schedule", "+1h"], env=cli_env
    )
    assert created.exit_code == 0, created.output + created.stderr
    assert "State: scheduled for" in created.stdout
    batch_id = batch_id_in(created.stdout)
    # When it is stopped
    stopped = runner.invoke(app, ["batches", "stop", batch_id], env=cli_env)
    assert stopped.exit_code == 0 and f"Batch {batch_id}: stopped" in stopped.stdout
    # Then watching it ends at once with the documented code for stopped (4), not 0
    watched = runner.invoke(app, ["batches", "watch", batch_id, "--interval", "0.3", "--max-wait", "60"], env=cli_env)
    assert watched.exit_code == 4, watched.output + watched.stderr
    assert f"batch {batch_id} stopped" in watched.stdout
    # And a control the state forbids is the API's own message, one line, exit 1
    resumed = runner.invoke(app, ["batches", "resume", batch_id], env=cli_env)
    assert resumed.exit_code == 1
    assert resumed.stderr.count("\n") == 1 and "(invalid_state, HTTP 409)" in resumed.stderr


def test_the_presigned_upload_path_and_a_redirected_export(
    stack: Any, cli_env: dict[str, str], runner: CliRunner, tmp_path: Path
) -> None:
    # Given a 12-contact file, sent through the presigned upload (as files over 4 MB are), run and watched
    contacts = tmp_path / "twelve.csv"
    contacts.write_text("contact_number,customer_name\n" + "".join(f"+1202555{300 + i:04d},N{i}\n" for i in range(12)))
    created = runner.invoke(
        app,
        ["batches", "create", str(contacts), "-a", stack.agent_id, "--presigned", "--run", "--watch", "--name", "big"],
        env=cli_env,
    )
    # Then the counts come from the validated upload and the batch runs to completion
    assert created.exit_code == 0, created.output + created.stderr
    assert "12 rows, 12 valid, 0 invalid, 0 duplicate" in created.stdout
    batch_id = batch_id_in(created.stdout)
    assert f"batch {batch_id} completed: 12/12 calls final" in created.stdout
    # And the export (over this stack's inline limit of 10 rows: a 303 to storage) is followed
    exported = runner.invoke(app, ["batches", "export", batch_id, "-o", "-"], env=cli_env)
    assert exported.exit_code == 0, exported.output + exported.stderr
    assert len(exported.stdout.splitlines()) == 13


def test_lists_and_reads(stack: Any, cli_env: dict[str, str], runner: CliRunner) -> None:
    agents = runner.invoke(app, ["agents", "list"], env=cli_env)
    assert agents.exit_code == 0 and stack.agent_id in agents.stdout
    create = ["batches", "create", str(SAMPLE), "-a", stack.agent_id, "--name", "listed"]
    created = runner.invoke(app, create, env=cli_env)
    batch_id = batch_id_in(created.stdout)
    listed = runner.invoke(app, ["batches", "list", "--agent", stack.agent_id], env=cli_env)
    assert listed.exit_code == 0 and re.search(rf"{batch_id}\s+listed\s+created", listed.stdout), listed.stdout
    shown = runner.invoke(app, ["batches", "get", batch_id, "--json"], env=cli_env)
    assert shown.exit_code == 0
    assert '"status": "created"' in shown.stdout and '"valid_contacts": 7' in shown.stdout


def run_installed(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BATCHCALL), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_the_installed_console_script(stack: Any, cli_env: dict[str, str]) -> None:
    # The Makefile's install put `batchcall` beside the venv's python
    assert BATCHCALL.exists(), f"{BATCHCALL} is missing: run `make` (the venv install runs `pip install -e .`)"
    listed = run_installed("agents", "list", "--json", env=cli_env)
    assert listed.returncode == 0, listed.stderr
    assert stack.agent_id in listed.stdout


def test_an_api_error_is_one_line_on_stderr(stack: Any, cli_env: dict[str, str]) -> None:
    # When the API refuses (an agent that does not exist), through the real console script
    result = run_installed("batches", "create", str(SAMPLE), "--agent", "no-such-agent", env=cli_env)
    # Then its message and code are one line on stderr, the exit code is 1, and there is no traceback
    assert result.returncode == 1
    assert result.stderr == "error: agent no-such-agent not found (agent_not_found, HTTP 404)\n"
    assert result.stdout == ""


def test_local_failures_are_one_line_too(
    stack: Any, cli_env: dict[str, str], runner: CliRunner, tmp_path: Path
) -> None:
    cases = {
        # no such file
        ("batches", "create", str(tmp_path / "missing.csv"), "-a", stack.agent_id): "cannot read",
        # nothing listening
        ("--url", "http://127.0.0.1:9", "agents", "list"): "cannot reach http://127.0.0.1:9",
        # a wrong key: the API's message
        ("--api-key", "bk_wrong", "agents", "list"): "(invalid_api_key, HTTP 401)",
        # a start time the CLI cannot read (bad usage: 2)
        ("batches", "create", str(SAMPLE), "-a", stack.agent_id, "--schedule", "soon"): "--schedule 'soon'",
    }
    for args, expected in cases.items():
        result = runner.invoke(app, list(args), env=cli_env)
        assert result.exit_code in (1, 2), (args, result.output, result.stderr)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (args, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    no_key = runner.invoke(app, ["agents", "list"], env={**cli_env, "BATCHCALL_API_KEY": ""})
    assert no_key.exit_code == 1 and no_key.stderr == "error: no API key: set BATCHCALL_API_KEY or pass --api-key\n"


def test_a_batchs_own_calling_rules_from_the_terminal(stack: Any, cli_env: dict[str, str], runner: CliRunner) -> None:
    # Given a batch created with its own weekly hours, a blocked range and the holiday opt-in
    hours = '{"mon": [["09:00", "12:00"], ["13:00", "20:00"]]}'
    create = ["batches", "create", str(SAMPLE), "-a", stack.agent_id, "--calling-hours", hours]
    created = runner.invoke(app, [*create, "--block", "2026-12-24..2026-12-26", "--skip-holidays"], env=cli_env)
    assert created.exit_code == 0, created.output + created.stderr
    batch_id = batch_id_in(created.stdout)
    # Then the API has them as given
    shown = runner.invoke(app, ["batches", "get", batch_id, "--json"], env=cli_env)
    assert '"skip_public_holidays": true' in shown.stdout and '"end": "2026-12-26"' in shown.stdout, shown.stdout
    # When it is scheduled with other hours, they replace the batch's
    other = ["--calling-hours", '{"tue": [["10:00", "11:00"]]}']
    scheduled = runner.invoke(app, ["batches", "schedule", batch_id, "+2h", *other], env=cli_env)
    assert scheduled.exit_code == 0, scheduled.output + scheduled.stderr
    shown = runner.invoke(app, ["batches", "get", batch_id, "--json"], env=cli_env)
    assert '"tue"' in shown.stdout and '"mon"' not in shown.stdout, shown.stdout
