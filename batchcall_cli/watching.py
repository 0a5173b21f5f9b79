"""`watch`: poll the batch until it is final, as a live progress bar (or one line per change in logs)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape

from . import render
from .cli import EXIT_TIMEOUT, err, out, say
from .client import ApiError, Client, CliError

POLL_FAILURES_TOLERATED = 5


def watch_batch(
    client: Client, batch_id: str, interval: float, max_wait: float | None, summary_to: Console = out
) -> int:
    """Poll the batch (one O(1) read) until it is final; returns the exit code for its final status.

    On a terminal: a live progress bar. Otherwise (CI logs, pipes): one line each time the counts change."""
    view = render.BatchProgress(batch_id)
    live = Live(view, console=err, refresh_per_second=4) if err.is_terminal else None
    last_line = ""

    def show(batch: dict[str, Any]) -> None:
        nonlocal last_line
        view.update(batch)
        line = render.summary_line(batch)
        if live is None and line != last_line:
            say(escape(line), err)
        last_line = line

    with live or contextlib.nullcontext():
        batch = poll_until_final(client, batch_id, interval, max_wait, show)
    say(escape(render.summary_line(batch)), summary_to)
    if batch.get("failure_reason"):
        reason = batch["failure_reason"]
        sys.stderr.write(f"failure: {reason.get('message')} ({reason.get('code')})\n")
    return render.EXIT_CODES[str(batch.get("status"))]


def poll_until_final(
    client: Client, batch_id: str, interval: float, max_wait: float | None, show: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    deadline = None if max_wait is None else time.monotonic() + max_wait
    failures = 0
    batch: dict[str, Any] = {}
    while True:
        try:
            batch = client.json("GET", f"/batches/{batch_id}")
            failures = 0
        except ApiError:
            raise
        except CliError as exc:  # the network dropped: keep polling a while, then give up
            failures += 1
            if failures > POLL_FAILURES_TOLERATED:
                raise
            say(f"[yellow]{escape(exc.message)}; retrying[/]", err)
        if batch:
            show(batch)
            if batch.get("status") in render.EXIT_CODES:
                return batch
        if deadline is not None and time.monotonic() > deadline:
            raise CliError(f"batch {batch_id} is still {batch.get('status')} after {max_wait:.0f} s", EXIT_TIMEOUT)
        time.sleep(interval)
