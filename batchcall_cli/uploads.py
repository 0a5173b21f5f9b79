"""Creating a batch from a file: the direct POST, the presigned upload for large files, and what is shown."""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from . import render
from .cli import EXIT_TIMEOUT, err, out, say, spinner
from .client import Client, CliError, post_to_storage

SYNC_UPLOAD_LIMIT = 4 * 1024 * 1024 - 16 * 1024  # the API's default MAX_SYNC_UPLOAD_BYTES, less the form's overhead

RELATIVE = re.compile(r"^\+(\d+)\s*([smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def calling_rules(hours: str | None, blocks: list[str] | None, holidays: bool | None) -> dict[str, Any]:
    """The batch's own calling rules from `--calling-hours JSON`, `--block DATE[..DATE]` (repeatable) and
    `--skip-holidays/--no-skip-holidays`; empty when none is given (the agent's apply)."""
    rules: dict[str, Any] = {}
    if hours is not None:
        try:
            rules["calling_hours"] = json.loads(hours)
        except ValueError:
            raise CliError(
                '--calling-hours: give JSON such as \'{"mon": [["09:00", "12:00"], ["13:00", "20:00"]]}\'', exit_code=2
            ) from None
    if blocks:
        ranges = []
        for block in blocks:
            start, _, end = block.strip().partition("..")
            ranges.append({"start": start.strip(), "end": (end or start).strip()})
        rules["blocked_dates"] = ranges
    if holidays is not None:
        rules["skip_public_holidays"] = holidays
    return rules


def parse_schedule(value: str, now: datetime | None = None) -> str:
    """`+10m`, `+1h`, `+2d`, or ISO 8601; a time without an offset is this terminal's local time."""
    now = now or datetime.now(UTC)
    relative = RELATIVE.match(value.strip())
    if relative:
        try:
            at = now + timedelta(**{UNITS[relative.group(2)]: int(relative.group(1))})
        except OverflowError:  # past the year 9999
            raise CliError(f"--schedule {value!r}: too far ahead", exit_code=2) from None
        return at.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CliError(
            f"--schedule {value!r}: give an ISO 8601 time (2026-12-01T09:30, an offset optional), or +10m, +1h, +2d",
            exit_code=2,
        ) from None
    if at.tzinfo is None:
        at = at.astimezone()  # the local zone, stated explicitly: the API refuses naive times
    return at.isoformat()


def retry_config(
    retry: bool | None, max_retries: int | None, on: list[str] | None, voicemail: bool, intervals: list[int] | None
) -> dict[str, Any] | None:
    """The batch's retry_config, or None to use the agent's; any retry option implies --retry."""
    if retry is None and max_retries is None and not on and not voicemail and not intervals:
        return None
    config: dict[str, Any] = {"enabled": retry is not False}
    if max_retries is not None:
        config["max_retries"] = max_retries
    if on:
        config["retry_on_statuses"] = on
    if voicemail:
        config["retry_on_voicemail"] = True
    if intervals:
        config["retry_intervals_minutes"] = intervals
    return config


def readable_csv(path: Path) -> int:
    """The file's size, or a one-line error saying why it cannot be sent."""
    if not path.exists():
        raise CliError(f"cannot read {path}: no such file")
    if not path.is_file():
        raise CliError(f"cannot read {path}: not a file")
    if not os.access(path, os.R_OK):
        raise CliError(f"cannot read {path}: permission denied")
    return path.stat().st_size


def create_direct(client: Client, path: Path, options: dict[str, Any]) -> dict[str, Any]:
    form: list[tuple[str, str]] = []
    for name, value in options.items():
        if name == "from_phone_numbers":
            form += [(name, number) for number in value]
        elif isinstance(value, dict | list):  # retry_config, calling_hours, blocked_dates: JSON text
            form.append((name, json.dumps(value)))
        elif isinstance(value, bool):
            form.append((name, "true" if value else "false"))
        else:
            form.append((name, str(value)))
    with path.open("rb") as file:
        created: dict[str, Any] = client.json(
            "POST", "/batches", data=form, files={"file": (path.name, file, "text/csv")}
        )
    return created


def create_presigned(client: Client, path: Path, options: dict[str, Any], max_wait: float) -> dict[str, Any]:
    """Large files: ask for a presigned upload, POST the file to storage, wait while the API validates it."""
    size = path.stat().st_size
    upload = client.json("POST", "/batches/uploads", json={**options, "file_name": path.name})
    batch_id = upload["batch_id"]
    if upload.get("max_bytes") and size > upload["max_bytes"]:
        client.request("DELETE", f"/batches/{batch_id}")
        raise CliError(f"{path} is {size} bytes; the service takes files up to {upload['max_bytes']} bytes")
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task(f"uploading {path.name}", total=size)
        try:
            post_to_storage(
                upload["upload"]["url"],
                upload["upload"]["fields"],
                path,
                lambda n: progress.advance(task, n),
                max(client.timeout, 300.0),
            )
        except CliError:
            with contextlib.suppress(CliError):  # best effort: no batch left `validating` for a file never sent
                client.request("DELETE", f"/batches/{batch_id}")
            raise
    deadline = time.monotonic() + max_wait
    with spinner(f"the service is reading {path.name}…"):
        while True:
            batch: dict[str, Any] = client.json("GET", f"/batches/{batch_id}")
            if batch.get("status") != "validating":
                break
            if time.monotonic() > deadline:
                raise CliError(f"batch {batch_id} is still validating after {max_wait:.0f} s", EXIT_TIMEOUT)
            time.sleep(1.0)
    if batch.get("status") == "failed":
        reason = batch.get("failure_reason") or {}
        raise CliError(
            f"batch {batch_id} failed: {reason.get('message', 'the file was refused')} ({reason.get('code', 'failed')})"
        )
    return {
        "batch_id": batch_id,
        "state": batch.get("status"),
        **{k: batch.get(k) for k in ("total_contacts", "valid_contacts", "invalid_contacts", "duplicate_contacts")},
        "suppressed_contacts": batch.get("suppressed_contacts") or 0,
        "warnings": batch.get("warnings") or [],
    }


def first_errors(client: Client, batch_id: str, limit: int = 10) -> tuple[list[dict[str, Any]], bool]:
    response = client.request("GET", f"/batches/{batch_id}/errors", params={"limit": limit})
    return response.json(), bool(response.headers.get("X-Next-Cursor"))


def show_created(
    created: dict[str, Any], rows: list[dict[str, Any]], more: bool, scheduled_at: str | None, started_now: bool
) -> None:
    batch_id = created["batch_id"]
    say(
        f"Batch [bold]{batch_id}[/] created: {created.get('total_contacts')} rows, "
        f"[green]{created.get('valid_contacts')} valid[/], [red]{created.get('invalid_contacts')} invalid[/], "
        f"[yellow]{created.get('duplicate_contacts')} duplicate[/]"
        + (f", {created['suppressed_contacts']} suppressed" if created.get("suppressed_contacts") else ""),
    )
    if rows:
        out.print(render.errors_table(rows, more))
        if more:
            say(f"All skipped rows: batchcall batches errors {batch_id}")
    for warning in created.get("warnings") or []:
        say(f"[yellow]warning:[/] {escape(str(warning.get('message') or warning.get('code')))}")
    state = created.get("state")
    if started_now:
        say("State: starting now")
    elif state == "scheduled":
        say(f"State: scheduled for {render.local_time(scheduled_at)}")
    else:
        say(f"State: {state}")
    hint = "watch it" if state in ("running", "scheduled") else "start it"
    command = "watch" if state in ("running", "scheduled") else "run"
    say(f"To {hint}: batchcall batches {command} {batch_id}")
