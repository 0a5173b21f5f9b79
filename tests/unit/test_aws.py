"""The fault-injection seam in chalicelib/aws.py cannot be used by a deployed function (issue 18)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import aws

ROOT = Path(__file__).resolve().parents[2]


def test_a_lambda_refuses_a_fault_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the environment every Lambda function runs in
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "batchcall-dev-dialer")
    # When anything tries to install a client hook, Then it is refused and none is installed
    with pytest.raises(RuntimeError, match="refused inside Lambda"):
        aws.install_client_hook(lambda service, client: None)
    assert aws._client_hook is None


def test_the_deployed_code_never_imports_the_injector() -> None:
    # Given every module a deployment packages (app.py and chalicelib/)
    deployed = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
    # Then none imports the local stack or the tests, where the injector lives
    for path in deployed:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.append(node.module)
            assert not [n for n in names if n.split(".")[0] in ("local", "tests")], path


def test_no_setting_or_stage_variable_turns_faults_on() -> None:
    # Given the app loaded as a Lambda loads it, with the stage's own variables
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    variables = json.dumps(config).upper()
    # Then no stage variable names faults, and importing the app leaves the seam empty
    assert "FAULT" not in variables
    probe = "import app; from chalicelib import aws; aws.sqs(); assert aws._client_hook is None; print('inert')"
    env = {"STAGE": "dev", "AWS_DEFAULT_REGION": "us-east-1", "FAULTS": "seed=7,rate=1", "PATH": ""}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "inert", result.stderr[-2000:]
