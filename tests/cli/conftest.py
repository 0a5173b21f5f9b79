"""The CLI's tests run it against the same local stack as the e2e tier (one of its own, started once)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from tests.e2e.conftest import http, stack  # noqa: F401  (the e2e tier's fixtures, scoped to this package)


@pytest.fixture
def cli_env(stack: Any) -> dict[str, str]:  # noqa: F811
    """What a user exports before running `batchcall` against the stack."""
    return {"BATCHCALL_URL": stack.api_url, "BATCHCALL_API_KEY": stack.api_key}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
