"""`batchcall`: agents and batches from a terminal or a script, through the public API only.

Exit codes: 0 success (for `watch`: the batch completed); 1 an error (the API's message, a network
problem or a bad file, printed as one line to stderr); 2 bad usage; 3 the watched batch failed;
4 the watched batch was stopped; 5 gave up waiting (`--max-wait`); 130 interrupted.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import requests
import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from . import render
from .client import DEFAULT_URL, ApiError, Client, CliError, guarded, post_to_storage, write_stream

EXIT_ERROR, EXIT_TIMEOUT, EXIT_INTERRUPTED = 1, 5, 130
SYNC_UPLOAD_LIMIT = 4 * 1024 * 1024 - 16 * 1024  # the API's default MAX_SYNC_UPLOAD_BYTES, less the form's overhead

app = typer.Typer(
    name="batchcall",
    help="Run calling campaigns on a batchcall service: agents, batches, live progress, CSV exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
agents_app = typer.Typer(help="The voice agents that place the calls.", no_args_is_help=True)
batches_app = typer.Typer(help="Batches: create from a CSV, run, watch, export, stop.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
app.add_typer(batches_app, name="batches")

# Results on stdout; progress and notes on stderr, so `-o -` and `--json` keep stdout clean. Piped, a table
# is as wide as its content (rich would fit it to 80 columns and cut the ids scripts need).
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

F = TypeVar("F", bound=Callable[..., Any])


def handled(command: F) -> F:
    """Every failure the user can act on is one line on stderr and an exit code, never a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CliError as exc:
            fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", EXIT_INTERRUPTED)
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):
            raise  # typer's own exits and usage errors
        except OSError as exc:  # a file we could not read or write
            fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", EXIT_ERROR)
        except Exception as exc:  # a bug or an answer we did not expect: still one line, unless debugging
            if os.environ.get("BATCHCALL_DEBUG"):
                raise
            fail(f"unexpected {type(exc).__name__}: {exc} (set BATCHCALL_DEBUG=1 for the traceback)", EXIT_ERROR)

    return run  # type: ignore[return-value]


def fail(message: str, code: int) -> None:
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    raise typer.Exit(code)


@dataclass
class Options:
    url: str
    api_key: str | None
    timeout: float

    def client(self) -> Client:
        if not self.api_key:
            raise CliError("no API key: set BATCHCALL_API_KEY or pass --api-key")
        return Client(self.url, self.api_key, self.timeout)


@app.callback()
def root(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(envvar="BATCHCALL_URL", help="The API's base URL.")] = DEFAULT_URL,
    api_key: Annotated[
        str | None, typer.Option(envvar="BATCHCALL_API_KEY", help="An API key (bk_…).", show_default=False)
    ] = None,
    request_timeout: Annotated[float, typer.Option(help="Seconds to wait for each HTTP answer.")] = 30.0,
) -> None:
    """Set BATCHCALL_URL and BATCHCALL_API_KEY (or pass --url and --api-key), then run a command."""
    ctx.obj = Options(url, api_key, request_timeout)


def client_of(ctx: typer.Context) -> Client:
    options: Options = ctx.find_root().obj
    return options.client()


def say(markup: str, console: Console = out) -> None:
    """One message line, never wrapped at the terminal's width (scripts grep these)."""
    console.print(markup, highlight=False, soft_wrap=True)


class _Quiet:
    def update(self, status: str) -> None:
        """No spinner off a terminal: nothing to update."""

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def spinner(text: str) -> Any:
    """A spinner on stderr when it is a terminal; nothing in logs and pipes."""
    return err.status(text) if err.is_terminal else _Quiet()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


# ---- agents -------------------------------------------------------------------------------------------


@agents_app.command("list")
@handled
def agents_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False
) -> None:
    """List the agents of your tenant."""
    agents = client_of(ctx).json("GET", "/agents")
    if as_json:
        print_json(agents)
    elif not agents:
        say("No agents yet: create one with POST /agents (see the README).", err)
    else:
        out.print(render.agents_table(agents))


# ---- batches: create ----------------------------------------------------------------------------------

RELATIVE = re.compile(r"^\+(\d+)\s*([smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_schedule(value: str, now: datetime | None = None) -> str:
    """`+10m`, `+1h`, `+2d`, or ISO 8601; a time without an offset is this terminal's local time."""
    now = now or datetime.now(UTC)
    relative = RELATIVE.match(value.strip())
    if relative:
        at = now + timedelta(**{UNITS[relative.group(2)]: int(relative.group(1))})
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
        elif isinstance(value, dict):
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
        "warnings": batch.get("warnings") or [],
    }


def first_errors(client: Client, batch_id: str, limit: int = 10) -> tuple[list[dict[str, Any]], bool]:
    response = client.request("GET", f"/batches/{batch_id}/errors", params={"limit": limit})
    return response.json(), bool(response.headers.get("X-Next-Cursor"))


@batches_app.command("create")
@handled
def batches_create(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The contacts CSV (a contact_number column, others are variables).")],
    agent: Annotated[str, typer.Option("--agent", "-a", help="The agent that makes the calls.")],
    run: Annotated[bool, typer.Option("--run", help="Start calling now.")] = False,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Start at: ISO 8601 (local time if no offset), or +10m, +1h.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A label for the batch.")] = None,
    from_number: Annotated[
        list[str] | None, typer.Option("--from-number", help="A caller ID (repeat for rotation); default: the agent's.")
    ] = None,
    default_region: Annotated[
        str | None, typer.Option(help="ISO country (e.g. US) for numbers written without +.")
    ] = None,
    retry: Annotated[
        bool | None, typer.Option("--retry/--no-retry", help="Retry unanswered calls (default: the agent's setting).")
    ] = None,
    max_retries: Annotated[int | None, typer.Option(help="Retries per contact, 1-3.", min=1, max=3)] = None,
    retry_on: Annotated[
        list[str] | None, typer.Option("--retry-on", help="A call status to retry (repeatable): no-answer, busy, ...")
    ] = None,
    retry_on_voicemail: Annotated[
        bool, typer.Option("--retry-on-voicemail", help="Also retry calls a voicemail answered.")
    ] = False,
    retry_interval: Annotated[
        list[int] | None, typer.Option("--retry-interval", help="Minutes before each retry (repeatable).")
    ] = None,
    webhook_url: Annotated[str | None, typer.Option(help="Receives each call's result.")] = None,
    status_webhook: Annotated[str | None, typer.Option(help="Receives the batch's lifecycle events.")] = None,
    max_concurrent_calls: Annotated[int | None, typer.Option(help="Live-call cap below the agent's.")] = None,
    bypass_call_guardrails: Annotated[
        bool, typer.Option("--bypass-call-guardrails", help="Ignore the calling hours.")
    ] = False,
    presigned: Annotated[
        bool, typer.Option("--presigned", help="Always use the presigned upload (automatic above 4 MB).")
    ] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Then watch it, as `batches watch` does.")] = False,
    max_wait: Annotated[float, typer.Option(help="Seconds to wait for a presigned upload to be read.")] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Create a batch from a CSV: shows valid, invalid and duplicate counts and the skipped rows."""
    if run and schedule:
        raise CliError("--run and --schedule exclude each other", exit_code=2)
    size = readable_csv(file)
    client = client_of(ctx)
    options: dict[str, Any] = {"agent_id": agent}
    optional = {
        "name": name,
        "from_phone_numbers": from_number or None,
        "default_region": default_region,
        "retry_config": retry_config(retry, max_retries, retry_on, retry_on_voicemail, retry_interval),
        "webhook_url": webhook_url,
        "status_webhook": status_webhook,
        "max_concurrent_calls": max_concurrent_calls,
        "bypass_call_guardrails": bypass_call_guardrails or None,
        "scheduled_at": parse_schedule(schedule) if schedule else None,
    }
    options.update({k: v for k, v in optional.items() if v is not None})
    if presigned or size > SYNC_UPLOAD_LIMIT:
        created = create_presigned(client, file, options, max_wait)
    else:
        try:
            created = create_direct(client, file, options)
        except ApiError as exc:
            if exc.status != 413:
                raise
            say("The file is over the API's limit for a direct upload: using the presigned upload.", err)
            created = create_presigned(client, file, options, max_wait)
    batch_id = created["batch_id"]
    rows: list[dict[str, Any]] = []
    more = False
    if (created.get("invalid_contacts") or 0) + (created.get("duplicate_contacts") or 0):
        rows, more = first_errors(client, batch_id)
    if run:
        started = client.json("POST", f"/batches/{batch_id}/run")
        created.update(state=started.get("state"), scheduled_at=started.get("scheduled_at"))
    if as_json:
        print_json({**created, "errors": rows})
    else:
        show_created(created, rows, more, created.get("scheduled_at") or options.get("scheduled_at"), run)
    if watch:
        raise typer.Exit(watch_batch(client, batch_id, 2.0, None, err if as_json else out))


def show_created(
    created: dict[str, Any], rows: list[dict[str, Any]], more: bool, scheduled_at: str | None, started_now: bool
) -> None:
    batch_id = created["batch_id"]
    say(
        f"Batch [bold]{batch_id}[/] created: {created.get('total_contacts')} rows, "
        f"[green]{created.get('valid_contacts')} valid[/], [red]{created.get('invalid_contacts')} invalid[/], "
        f"[yellow]{created.get('duplicate_contacts')} duplicate[/]",
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


# ---- batches: watch -----------------------------------------------------------------------------------

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


@batches_app.command("watch")
@handled
def batches_watch(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(help="The batch to watch.")],
    interval: Annotated[float, typer.Option(help="Seconds between polls.", min=0.2)] = 2.0,
    max_wait: Annotated[
        float | None, typer.Option(help="Give up (exit 5) after this many seconds; default: wait until final.")
    ] = None,
) -> None:
    """Live progress until the batch is final. Exit 0 completed, 3 failed, 4 stopped (1 error, 5 gave up)."""
    raise typer.Exit(watch_batch(client_of(ctx), batch_id, interval, max_wait))


# ---- batches: export ----------------------------------------------------------------------------------


def fetch_export(client: Client, batch_id: str, max_wait: float) -> requests.Response:
    """The CSV's response: inline (200), or a 303 to a presigned URL fetched without the API key,
    polling 202 (the export is being prepared) as its Retry-After says."""
    path = f"/batches/{batch_id}/executions.csv"
    deadline = time.monotonic() + max_wait
    with spinner("preparing the export…") as status:
        while True:
            response = client.request("GET", path, stream=True)
            if response.status_code == 202:
                response.close()
                if time.monotonic() > deadline:
                    raise CliError(f"the export of batch {batch_id} is not ready after {max_wait:.0f} s", EXIT_TIMEOUT)
                wait = retry_after(response.headers.get("Retry-After"))
                status.update(f"the service is preparing the export; asking again in {wait:.0f} s…")
                time.sleep(wait)
                continue
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                response.close()
                if not location:
                    raise CliError("the API redirected the export without a Location")
                # A plain request: the presigned URL is its own credential, and the API key stays with the API.
                fetch = functools.partial(requests.get, location, stream=True, timeout=client.timeout)
                stored = guarded(fetch, "the export URL")
                if stored.status_code != 200:
                    raise CliError(f"the export URL answered HTTP {stored.status_code}")
                return stored
            return response


def retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 5), 1.0), 60.0)
    except ValueError:
        return 5.0


@batches_app.command("export")
@handled
def batches_export(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(help="The batch to export.")],
    output: Annotated[str, typer.Option("--output", "-o", help="The CSV file to write; - for stdout.")],
    max_wait: Annotated[float, typer.Option(help="Seconds to wait for a large export to be prepared.")] = 900.0,
) -> None:
    """Download the results as CSV: one row per contact, its columns then the call's outcome."""
    response = fetch_export(client_of(ctx), batch_id, max_wait)
    with response:
        if output == "-":
            write_stream(response, sys.stdout.buffer)
            sys.stdout.flush()
            return
        target = Path(output)
        handle, temporary = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                size = write_stream(response, file)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    with target.open(newline="", encoding="utf-8-sig") as file:
        rows = max(sum(1 for _ in csv.reader(file)) - 1, 0)
    say(f"Wrote {rows} rows ({size} bytes) to {escape(str(target))}", err)


# ---- batches: the other controls ----------------------------------------------------------------------


def control(ctx: typer.Context, batch_id: str, action: str) -> None:
    answer = client_of(ctx).json("POST", f"/batches/{batch_id}/{action}")
    state = answer.get("state")
    extra = f" for {render.local_time(answer['scheduled_at'])}" if state == "scheduled" else ""
    say(f"Batch {batch_id}: {state}{extra}")


@batches_app.command("stop")
@handled
def batches_stop(ctx: typer.Context, batch_id: Annotated[str, typer.Argument()]) -> None:
    """Stop for good: no new call is placed; contacts never reached end `canceled`."""
    control(ctx, batch_id, "stop")


@batches_app.command("pause")
@handled
def batches_pause(ctx: typer.Context, batch_id: Annotated[str, typer.Argument()]) -> None:
    """Pause without losing a contact (live calls finish)."""
    control(ctx, batch_id, "pause")


@batches_app.command("resume")
@handled
def batches_resume(ctx: typer.Context, batch_id: Annotated[str, typer.Argument()]) -> None:
    """Resume a paused batch."""
    control(ctx, batch_id, "resume")


@batches_app.command("run")
@handled
def batches_run(ctx: typer.Context, batch_id: Annotated[str, typer.Argument()]) -> None:
    """Start calling now."""
    control(ctx, batch_id, "run")


@batches_app.command("schedule")
@handled
def batches_schedule(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument()],
    at: Annotated[str, typer.Argument(help="ISO 8601 (local time if no offset), or +10m, +1h, +2d.")],
    bypass_call_guardrails: Annotated[
        bool, typer.Option("--bypass-call-guardrails", help="Ignore the calling hours.")
    ] = False,
) -> None:
    """Start at a given time."""
    body: dict[str, Any] = {"scheduled_at": parse_schedule(at)}
    if bypass_call_guardrails:
        body["bypass_call_guardrails"] = True
    answer = client_of(ctx).json("POST", f"/batches/{batch_id}/schedule", json=body)
    say(f"Batch {batch_id}: {answer.get('state')} for {render.local_time(answer.get('scheduled_at'))}")


@batches_app.command("delete")
@handled
def batches_delete(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument()],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a batch (a running one is stopped first)."""
    if not yes and not typer.confirm(f"Delete batch {batch_id}?"):
        raise typer.Exit(EXIT_ERROR)
    client_of(ctx).json("DELETE", f"/batches/{batch_id}")
    say(f"Batch {batch_id}: deleted")


@batches_app.command("get")
@handled
def batches_get(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """Show one batch: status, counts, times."""
    batch = client_of(ctx).json("GET", f"/batches/{batch_id}")
    if as_json:
        print_json(batch)
    else:
        out.print(render.batch_table(batch))


@batches_app.command("list")
@handled
def batches_list(
    ctx: typer.Context,
    agent: Annotated[str, typer.Option("--agent", "-a", help="The agent whose batches to list.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """An agent's batches, newest first."""
    batches = client_of(ctx).json("GET", f"/batches/{agent}/all")
    if as_json:
        print_json(batches)
    elif not batches:
        say(f"Agent {agent} has no batches yet.", err)
    else:
        out.print(render.batches_table(batches))


@batches_app.command("errors")
@handled
def batches_errors(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """Every row of the file that was skipped, and why."""
    client = client_of(ctx)
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 10000, **({"cursor": cursor} if cursor else {})}
        response = client.request("GET", f"/batches/{batch_id}/errors", params=params)
        rows += response.json()
        cursor = response.headers.get("X-Next-Cursor")
        if not cursor:
            break
    if as_json:
        print_json(rows)
    elif not rows:
        say("No row was skipped.", err)
    else:
        out.print(render.errors_table(rows, more=False))
