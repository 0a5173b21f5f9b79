"""`export`: the CSV inline, after a 303 to storage (without the API key), or after 202s while it is prepared."""

from __future__ import annotations

import csv
import functools
import math
import os
import tempfile
import time
from pathlib import Path

import requests

from .cli import EXIT_TIMEOUT, spinner
from .client import Client, CliError, guarded, write_stream


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
                wait = min(retry_after(response.headers.get("Retry-After")), max(deadline - time.monotonic(), 0) + 0.1)
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
        seconds = float(value or 5)
    except ValueError:
        return 5.0
    return min(max(seconds, 1.0), 60.0) if math.isfinite(seconds) else 5.0  # NaN would crash time.sleep


def save_export(response: requests.Response, target: Path) -> tuple[int, int]:
    """Write the CSV beside `target` and move it into place, so a broken download never leaves half a file.
    Returns (data rows, bytes)."""
    check_target(target)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            size = write_stream(response, file)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    with target.open(newline="", encoding="utf-8-sig") as file:
        rows = max(sum(1 for _ in csv.reader(file)) - 1, 0)
    return rows, size


def check_target(target: Path) -> None:
    """Before asking for an export, make sure it can be written."""
    if not target.parent.is_dir():
        raise CliError(f"cannot write {target}: no such directory {target.parent}")
