"""One synthesis per CDK context for the whole infra test session (each takes 20-40 s on two cores)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGE = "dev"
Templates = tuple[dict[str, Any], dict[str, Any]]  # as synthesized, and after the SAM transform


@pytest.fixture(scope="session")
def synthesize(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Templates]:
    """`synthesize(kms="customer")`: the dev stack with that CDK context, synthesized once and expanded."""
    done: dict[tuple[tuple[str, str], ...], Templates] = {}

    def run(**context: str) -> Templates:
        key = tuple(sorted(context.items()))
        if key not in done:
            from infra.expand import expand  # samtranslator: .venv-infra only

            outdir = tmp_path_factory.mktemp("cdk.out")
            env = {k: v for k, v in os.environ.items() if k not in ("CDK_DEFAULT_ACCOUNT", "AWS_ACCOUNT_ID")}
            env.pop("ALARM_EMAIL", None)
            env.update({"STAGE": STAGE, "RESOURCE_PREFIX": "batchcall", "AWS_REGION": "us-east-1"})
            args = [f"-c{k}={v}" for k, v in key]
            proc = subprocess.run(  # a process of its own: packaging imports app.py and rewrites os.environ
                [sys.executable, str(ROOT / "infra" / "app.py"), "--outdir", str(outdir), *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode:
                pytest.fail(f"synth {context} failed:\n{proc.stderr[-4000:]}")
            template = json.loads((outdir / f"{STAGE}.template.json").read_text())
            done[key] = (template, expand(template, "us-east-1"))
        return done[key]

    return run
