"""One local stack for the e2e tier, started once and talked to over HTTP."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.e2e import api_session, local_stack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="package")  # stopped before the other tiers run: they must not see its env
def stack() -> Iterator[Any]:
    # SIMULATOR_SPEED: a two-minute call takes a second; the 12-contact upload's export takes the S3 redirect
    with local_stack(SIMULATOR_SPEED="120", EXPORT_INLINE_MAX_ROWS="10") as running:
        yield running


@pytest.fixture
def http(stack: Any) -> requests.Session:
    return api_session(stack)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Every line the service logs during the test, formatted exactly as in Lambda (JSON, masked)."""
    from chalicelib import observability

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(observability.logger.registered_formatter)
    observability.logger.addHandler(handler)
    observability.logger.setLevel("INFO")
    yield buffer
    observability.logger.setLevel("WARNING")
    logging.getLogger(observability.logger.name).removeHandler(handler)  # the std logger Powertools wraps


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how much the schemathesis run did (tests/e2e/test_openapi_fuzz.py), when it ran."""
    fuzz = sys.modules.get("tests.e2e.test_openapi_fuzz")
    tally = getattr(fuzz, "Tally", None)
    if tally is not None and tally.requests:
        modes = ", ".join(f"{count} {mode}" for mode, count in sorted(tally.modes.items()))
        terminalreporter.write_line(
            f"schemathesis: {tally.requests} requests ({modes}) in {tally.seconds:.1f} s against the local stack; "
            f"statuses {dict(sorted(tally.statuses.items()))}"
        )
