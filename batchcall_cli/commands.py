"""The commands: `agents ...` and `batches ...`, each a thin layer over one or two API calls."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from . import render
from .cli import EXIT_ERROR, agents_app, batches_app, client_of, err, handled, out, print_json, say
from .client import ApiError, Client, CliError, write_stream
from .exporting import check_target, fetch_export, save_export
from .uploads import (
    SYNC_UPLOAD_LIMIT,
    calling_rules,
    create_direct,
    create_presigned,
    first_errors,
    parse_schedule,
    readable_csv,
    retry_config,
    show_created,
)
from .watching import watch_batch

HOURS_HELP = 'The batch\'s own weekly hours as JSON, e.g. \'{"mon": [["09:00", "12:00"], ["13:00", "20:00"]]}\'.'
BLOCK_HELP = "A date (2026-12-25) or range (2026-12-24..2026-12-26) when nobody is called (repeatable)."
HOLIDAYS_OPTION = typer.Option(
    "--skip-holidays/--no-skip-holidays",
    help="Skip (or not) the public holidays of each recipient's country; default: the agent's.",
)

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


def _upload(client: Client, file: Path, options: dict[str, Any], *, presigned: bool, max_wait: float) -> dict[str, Any]:
    """POST /batches, or the presigned upload for a large file (or when the API answers 413)."""
    if presigned:
        return create_presigned(client, file, options, max_wait)
    try:
        return create_direct(client, file, options)
    except ApiError as exc:
        if exc.status != 413:
            raise
        say("The file is over the API's limit for a direct upload: using the presigned upload.", err)
        return create_presigned(client, file, options, max_wait)


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
        bool, typer.Option("--bypass-call-guardrails", help="Ignore every calling rule.")
    ] = False,
    calling_hours: Annotated[str | None, typer.Option(help=HOURS_HELP)] = None,
    block: Annotated[list[str] | None, typer.Option("--block", help=BLOCK_HELP)] = None,
    skip_holidays: Annotated[bool | None, HOLIDAYS_OPTION] = None,
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
    if watch and not (run or schedule):
        raise CliError("--watch needs --run or --schedule (a batch only created would never end)", exit_code=2)
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
    options.update(calling_rules(calling_hours, block, skip_holidays))
    created = _upload(client, file, options, presigned=presigned or size > SYNC_UPLOAD_LIMIT, max_wait=max_wait)
    batch_id = created["batch_id"]
    rows: list[dict[str, Any]] = []
    more = False
    skipped = ("invalid_contacts", "duplicate_contacts", "suppressed_contacts")
    if sum(created.get(k) or 0 for k in skipped):
        rows, more = first_errors(client, batch_id)
    if run:
        try:
            started = client.json("POST", f"/batches/{batch_id}/run")
        except CliError as exc:
            raise CliError(f"batch {batch_id} was created but not started: {exc.message}", exc.exit_code) from None
        created.update(state=started.get("state"), scheduled_at=started.get("scheduled_at"))
    if as_json:
        print_json({**created, "errors": rows})
    else:
        show_created(created, rows, more, created.get("scheduled_at") or options.get("scheduled_at"), run)
    if watch:
        raise typer.Exit(watch_batch(client, batch_id, 2.0, None, err if as_json else out))


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


@batches_app.command("export")
@handled
def batches_export(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(help="The batch to export.")],
    output: Annotated[str, typer.Option("--output", "-o", help="The CSV file to write; - for stdout.")],
    max_wait: Annotated[float, typer.Option(help="Seconds to wait for a large export to be prepared.")] = 900.0,
) -> None:
    """Download the results as CSV: one row per contact, its columns then the call's outcome."""
    if output != "-":
        check_target(Path(output))
    response = fetch_export(client_of(ctx), batch_id, max_wait)
    with response:
        if output == "-":
            write_stream(response, sys.stdout.buffer)
            sys.stdout.flush()
            return
        target = Path(output)
        rows, size = save_export(response, target)
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
        bool, typer.Option("--bypass-call-guardrails", help="Ignore every calling rule.")
    ] = False,
    calling_hours: Annotated[str | None, typer.Option(help=HOURS_HELP)] = None,
    block: Annotated[list[str] | None, typer.Option("--block", help=BLOCK_HELP)] = None,
    skip_holidays: Annotated[bool | None, HOLIDAYS_OPTION] = None,
) -> None:
    """Start at a given time (and set the batch's own calling rules, replacing what it had)."""
    body: dict[str, Any] = {"scheduled_at": parse_schedule(at), **calling_rules(calling_hours, block, skip_holidays)}
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
