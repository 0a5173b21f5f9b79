"""`make run`'s banner prints every command of the README's walk-through, values filled in; `make run` takes ports."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from chalicelib.settings import get_settings
from local.stack import banner

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


@dataclass
class RunningStack:  # what the banner reads of a LocalStack
    project_dir: Path
    api_url: str
    aws_url: str
    api_key: str | None
    agent_id: str | None


def code_blocks(section: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def commands(block: str) -> list[str]:
    """Shell commands, continuation lines joined, also those shown commented out (`#    curl ...`)."""
    found = []
    for line in block.replace("\\\n", " ").splitlines():
        text = line.strip()
        if text.startswith("#"):
            text = text.lstrip("#").strip()
            if not text.startswith(("curl ", "export ", "aws ")):
                continue
        text = re.sub(r"\s+#\s.*$", "", text)  # a trailing comment
        if text:
            found.append(" ".join(text.split()))
    return found


def walk_through_commands() -> list[str]:
    section = README.split("## Walk-through", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    drop_folder = next(b for b in code_blocks(README) if " s3 cp " in b)
    api_keys = README.split("## API keys", 1)[1].split("\n## ", 1)[0]
    return [c for block in [*code_blocks(section), drop_folder, *code_blocks(api_keys)] for c in commands(block)]


@pytest.fixture
def dev_stage(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("STAGE", "dev")  # the README shows the dev stage's bucket
    monkeypatch.chdir(ROOT)  # as `make run` runs: the sample's path is relative
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_banner_prints_every_readme_walk_through_command_with_the_values_filled_in(dev_stage: Any) -> None:
    stack = RunningStack(ROOT, "http://127.0.0.1:8100", "http://127.0.0.1:4566", "bk_k3y", "agent-42")
    printed = {" ".join(line.strip().lstrip("#").split()) for line in banner(cast(Any, stack)).splitlines()}
    expected = walk_through_commands()
    assert len(expected) >= 12  # the exports, the 8 curls, the drop folder, manage.py
    filled_in = {
        "http://127.0.0.1:8000": "http://127.0.0.1:8100",
        "http://127.0.0.1:<aws port>": "http://127.0.0.1:4566",
        "<api key>": "bk_k3y",
        "<agent id>": "agent-42",
    }
    for command in expected:
        for placeholder, value in filled_in.items():
            command = command.replace(placeholder, value)
        assert command in printed, f"the banner lacks: {command}"


def make_run(*variables: str) -> str:
    """The command `make run` would run with these variables."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}  # under `make test`
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return " ".join(dry_run.stdout.strip().splitlines()[-1].split())


def test_make_run_takes_the_api_and_emulator_ports() -> None:
    assert make_run("PORT=8100", "AWS_PORT=4566").endswith("-m local --port 8100 --aws-port 4566")


def test_make_run_keeps_data_in_dot_data_unless_told_where_or_to_start_fresh() -> None:
    assert "--data" not in make_run() and "--fresh" not in make_run()
    assert "-m local --data /tmp/campaign --fresh --port" in make_run("DATA=/tmp/campaign", "FRESH=1")


def test_the_banner_prints_the_dashboard_url(dev_stage: Any) -> None:
    stack = RunningStack(ROOT, "http://127.0.0.1:8100", "http://127.0.0.1:4566", "bk_x", "agent-1")
    text = banner(cast(Any, stack))
    assert "  Dashboard    http://127.0.0.1:8100/dashboard" in text
