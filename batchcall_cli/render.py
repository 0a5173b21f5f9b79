"""What the CLI shows: rich tables and the live progress of a batch (no HTTP here)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

# The API's call statuses that end a call, and the batch statuses that end a batch (with this CLI's exit codes).
FINAL_CALL_STATUSES = ("completed", "no-answer", "busy", "failed", "error", "canceled", "suppressed", "contact_limited")
OPEN_CALL_STATUSES = ("queued", "rescheduled", "initiated", "ringing", "in-progress")
EXIT_CODES = {"completed": 0, "failed": 3, "stopped": 4}
STATUS_STYLES = {
    "completed": "green",
    "no-answer": "yellow",
    "busy": "yellow",
    "failed": "red",
    "error": "red",
    "canceled": "magenta",
    "suppressed": "magenta",
    "contact_limited": "magenta",
    "stopped": "magenta",
    "paused": "yellow",
    "running": "cyan",
    "scheduled": "blue",
}


def finished(batch: dict[str, Any]) -> int:
    counts = batch.get("execution_status") or {}
    return sum(int(counts.get(status) or 0) for status in FINAL_CALL_STATUSES)


def counts_text(batch: dict[str, Any]) -> Text:
    """`completed 5  no-answer 2 | queued 1`: final statuses first, then the calls still open."""
    counts = batch.get("execution_status") or {}
    text = Text()
    ordered = [s for s in (*FINAL_CALL_STATUSES, *OPEN_CALL_STATUSES) if counts.get(s)]
    ordered += sorted(s for s in counts if s not in ordered and counts[s])
    for index, status in enumerate(ordered):
        if index:
            text.append("  ")
        text.append(f"{status} {counts[status]}", style=STATUS_STYLES.get(status, ""))
    return text if ordered else Text("no calls yet", style="dim")


def local_time(value: str | None) -> str:
    """An API instant in this terminal's zone, with the UTC instant beside it."""
    if not value:
        return "-"
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return f"{instant.astimezone():%Y-%m-%d %H:%M:%S %Z} ({value})"


def short_time(value: str | None) -> str:
    """An API instant as `11-30 10:27` in this terminal's zone, for tables."""
    if not value:
        return "-"
    try:
        return f"{datetime.fromisoformat(value.replace('Z', '+00:00')).astimezone():%m-%d %H:%M}"
    except ValueError:
        return value


class BatchProgress:
    """A progress bar of final calls over valid contacts, the batch's status, and its counts by call status."""

    def __init__(self, batch_id: str) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[progress.percentage]{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
        )
        self.task: TaskID = self.progress.add_task(f"{batch_id[:12]} …", total=None)
        self.counts = Text("waiting for the first poll", style="dim")

    def update(self, batch: dict[str, Any]) -> None:
        status = str(batch.get("status"))
        total = batch.get("valid_contacts") or None
        description = Text(str(batch.get("batch_id", ""))[:12] + " ")
        description.append(status, style=STATUS_STYLES.get(status, ""))
        if status == "scheduled" and batch.get("scheduled_at"):
            description.append(f" for {local_time(batch['scheduled_at'])}", style="dim")
        self.progress.update(self.task, description=description.markup, total=total, completed=finished(batch))
        self.counts = counts_text(batch)

    def __rich__(self) -> Group:
        return Group(self.progress, self.counts)


def summary_line(batch: dict[str, Any]) -> str:
    counts = batch.get("execution_status") or {}
    parts = ", ".join(f"{status} {count}" for status, count in counts.items() if count) or "no calls"
    return (
        f"batch {batch.get('batch_id')} {batch.get('status')}: "
        f"{finished(batch)}/{batch.get('valid_contacts') or 0} calls final ({parts})"
    )


def agents_table(agents: Iterable[dict[str, Any]]) -> Table:
    table = Table(title="Agents", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=32, style="bold")
    table.add_column("name", min_width=8, overflow="fold")
    table.add_column("provider")
    table.add_column("caller numbers")
    table.add_column("live calls", justify="right")
    table.add_column("hours")
    for agent in agents:
        table.add_row(
            str(agent.get("id") or agent.get("agent_id")),
            agent.get("name") or "",
            agent.get("provider") or "",
            ", ".join(agent.get("from_phone_numbers") or []) or "-",
            str(agent.get("max_concurrent_calls") or "-"),
            hours_summary(agent),
        )
    return table


def hours_summary(agent: dict[str, Any]) -> str:
    """The agent's calling hours in a few words: weekly hours name their days, the shorthand its hours."""
    weekly = agent.get("calling_hours")
    if weekly:
        days = [day for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") if weekly.get(day)]
        return f"weekly: {' '.join(days)}"
    start, end = agent.get("call_start_hour"), agent.get("call_end_hour")
    return f"{start}-{end} {agent.get('timezone') or ''}".strip() if start is not None else "any"


def batches_table(batches: Iterable[dict[str, Any]]) -> Table:
    table = Table(title="Batches", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=32, style="bold")
    table.add_column("name or file", min_width=8, overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("scheduled", no_wrap=True)
    table.add_column("final", justify="right", no_wrap=True)
    for batch in batches:
        status = str(batch.get("status"))
        table.add_row(
            str(batch.get("batch_id")),
            batch.get("name") or batch.get("file_name") or "",
            Text(status, style=STATUS_STYLES.get(status, "")),
            short_time(batch.get("created_at")),
            short_time(batch.get("scheduled_at")),
            f"{finished(batch)}/{batch.get('valid_contacts') or 0}",
        )
    return table


def batch_table(batch: dict[str, Any]) -> Table:
    table = Table(show_header=False, title=f"Batch {batch.get('batch_id')}", title_justify="left")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    status = str(batch.get("status"))
    table.add_row("status", Text(status, style=STATUS_STYLES.get(status, "")))
    for name in ("agent_id", "name", "file_name"):
        table.add_row(name, str(batch.get(name) or "-"))
    for name in ("created_at", "scheduled_at", "started_at", "completed_at", "stopped_at"):
        if batch.get(name):
            table.add_row(name, local_time(batch[name]))
    table.add_row(
        "contacts",
        f"{batch.get('total_contacts') or 0} rows: {batch.get('valid_contacts') or 0} valid, "
        f"{batch.get('invalid_contacts') or 0} invalid, {batch.get('duplicate_contacts') or 0} duplicate",
    )
    table.add_row("calls", counts_text(batch))
    if batch.get("failure_reason"):
        reason = batch["failure_reason"]
        table.add_row("failure", f"{reason.get('message')} ({reason.get('code')})")
    for warning in batch.get("warnings") or []:
        table.add_row("warning", str(warning.get("message") or warning.get("code")))
    return table


def errors_table(rows: list[dict[str, Any]], more: bool) -> Table:
    table = Table(title="Rows skipped", title_justify="left", caption="…and more" if more else None)
    table.add_column("row", justify="right")
    table.add_column("reason")
    table.add_column("value")
    table.add_column("message")
    for row in rows:
        table.add_row(str(row.get("row")), str(row.get("reason")), str(row.get("value") or ""), str(row.get("message")))
    return table
