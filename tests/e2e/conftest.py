"""One local stack for the e2e tier, started once and talked to over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="package")  # stopped before the other tiers run: they must not see its env
def stack() -> Iterator[Any]:
    from local.stack import LocalStack

    saved = dict(os.environ)
    os.environ["SIMULATOR_SPEED"] = "120"  # a two-minute call takes a second
    os.environ.pop("PUBLIC_BASE_URL", None)  # as a user runs it: the stack's own URL
    os.environ["EXPORT_INLINE_MAX_ROWS"] = "10"  # the 12-contact upload's export takes the S3 redirect
    try:
        with LocalStack(project_dir=ROOT, api_port=0, aws_port=0) as running:
            yield running
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def http(stack: Any) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {stack.api_key}"
    return session
