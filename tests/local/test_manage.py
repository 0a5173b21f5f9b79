"""`manage.py create-key` against the local stack's emulator works on a machine with no AWS configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import manage
from chalicelib import aws
from chalicelib.services.auth import authenticate
from chalicelib.services.container import get_dependencies
from chalicelib.settings import get_settings
from local.bootstrap import create_resources
from local.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
AWS_CONFIGURATION = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.setenv("RESOURCE_PREFIX", f"m{uuid.uuid4().hex[:8]}")
    with Emulator() as running:
        get_settings.cache_clear()
        get_dependencies.cache_clear()
        create_resources(get_settings())
        yield running
    get_settings.cache_clear()
    get_dependencies.cache_clear()
    aws.reset()


def test_create_key_against_the_emulator_needs_no_aws_configuration(emulator: Emulator, tmp_path: Path) -> None:
    # Given a shell with no AWS credentials, no profile and an empty home (no ~/.aws), pointed at the emulator
    env = {k: v for k, v in os.environ.items() if k not in AWS_CONFIGURATION}
    env.update(HOME=str(tmp_path), AWS_ENDPOINT_URL=emulator.endpoint_url)
    # When the README's command runs
    done = subprocess.run(
        [sys.executable, "manage.py", "create-key", "--tenant", "acme", "--label", "ci"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then it prints a key that the service accepts for that tenant
    assert done.returncode == 0, done.stderr[-2000:]
    key = done.stdout.strip()
    assert key.startswith("bk_")
    assert authenticate(get_dependencies().keys, f"Bearer {key}") == "acme"


@pytest.mark.parametrize("endpoint", ["", "https://dynamodb.us-east-1.amazonaws.com", "http://10.0.0.5:4566"])
def test_fake_credentials_are_never_used_for_anything_but_this_machine(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in AWS_CONFIGURATION:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    assert manage.emulator_credentials() is False
    assert "AWS_ACCESS_KEY_ID" not in os.environ


def test_configured_credentials_are_kept_for_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:5000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "mine")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "mine-too")
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
    assert manage.emulator_credentials() is False
    assert os.environ["AWS_ACCESS_KEY_ID"] == "mine"


def test_without_credentials_or_the_emulator_it_says_what_to_export(tmp_path: Path) -> None:
    # Given a shell with no AWS configuration and no AWS_ENDPOINT_URL (the export line `make run` prints skipped)
    env = {k: v for k, v in os.environ.items() if k not in AWS_CONFIGURATION and k != "AWS_ENDPOINT_URL"}
    env.update(HOME=str(tmp_path), AWS_EC2_METADATA_DISABLED="true")
    # When the README's command runs
    done = subprocess.run(
        [sys.executable, "manage.py", "create-key", "--tenant", "acme"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then it fails with one line naming the export, not a botocore traceback
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr[-2000:]
    assert "AWS_ENDPOINT_URL" in done.stderr
