"""Helpers for the end-to-end tests against a running local stack: the stack itself, its keyed client, polling."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


@contextlib.contextmanager
def local_stack(**env: str) -> Iterator[Any]:
    """A local stack on free ports, as a user runs it (its own URL for callbacks), with these variables set;
    the environment is put back afterwards, so the tiers that run next never see them."""
    from local.stack import LocalStack

    saved = dict(os.environ)
    os.environ.update(env)
    os.environ.pop("PUBLIC_BASE_URL", None)
    try:
        with LocalStack(project_dir=ROOT, api_port=0, aws_port=0) as running:
            yield running
    finally:
        os.environ.clear()
        os.environ.update(saved)


def api_session(stack: Any) -> requests.Session:
    """The public API with the stack's seeded key."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {stack.api_key}"
    return session
