"""The cost of the local stack's durability (issue 21): calls/s with and without it, restart time, data size.

Prints:
- calls/s end to end for one batch of zero-length simulated calls, on a stack in memory only and on
  one with a data directory (every acknowledged change fsynced first);
- for a data directory holding N executions (default 100,000): its size, the time a clean stop's
  snapshot takes, and the restart time after a clean stop (snapshot only) and after kill -9
  (snapshot plus the log written since it, replayed).

The executions of the second part are written straight into the emulator's DynamoDB, copies of a
real execution item made by a small campaign first (a campaign of 100,000 calls takes hours on the
local stack; the data directory's size and restart time depend on what it holds, not how it got there).

Each part runs in its own process (moto and the app are per process). Run:
    .venv/bin/python bench/local_durability.py [--contacts 300] [--executions 100000]
    .venv/bin/python bench/local_durability.py --smoke     # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stackutil import ROOT, Api, numbers_csv, wait_for

SCRIPT = Path(__file__).resolve()


def run_child(*args: str) -> dict[str, Any]:
    """Run this script in a fresh process for one part; its last stdout line is a JSON result."""
    env = {**os.environ, "SIMULATOR_SPEED": "0", "POWERTOOLS_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def campaign(contacts: int, data_dir: str | None) -> dict[str, Any]:
    """One batch of zero-length calls, run to completion; calls/s from run to completed."""
    from local.stack import LocalStack

    stack = LocalStack(project_dir=ROOT, api_port=0, data_dir=data_dir).start()
    try:
        assert stack.api_key and stack.agent_id
        api = Api(stack.api_url, stack.api_key)
        api.session.patch(f"{api.url}/agents/{stack.agent_id}", json={"max_concurrent_calls": 50}).raise_for_status()
        batch = api.post_csv(stack.agent_id, numbers_csv(contacts, start=100_000))["batch_id"]
        started = time.monotonic()
        api.post(f"/batches/{batch}/run")
        wait_for(lambda: api.get(f"/batches/{batch}")["status"] == "completed", 3600, 0.2)
        elapsed = time.monotonic() - started
        counts = api.get(f"/batches/{batch}")["execution_status"]
        return {"contacts": contacts, "seconds": elapsed, "calls_per_s": contacts / elapsed, "counts": counts}
    finally:
        stack.stop()


def fill(data_dir: str, executions: int, crash_copy: str) -> dict[str, Any]:
    """A data directory holding `executions` execution items; a copy of it as kill -9 would leave it."""
    from chalicelib import aws, resources
    from chalicelib.settings import get_settings
    from local.stack import LocalStack

    stack = LocalStack(project_dir=ROOT, api_port=0, data_dir=data_dir).start()
    try:
        assert stack.api_key and stack.agent_id
        api = Api(stack.api_url, stack.api_key)
        batch = api.post_csv(stack.agent_id, numbers_csv(5))["batch_id"]
        api.post(f"/batches/{batch}/run")
        wait_for(lambda: api.get(f"/batches/{batch}")["status"] == "completed", 120, 0.2)
        table = resources.table_name(get_settings(), resources.EXECUTIONS)
        template = aws.dynamodb().scan(TableName=table, Limit=1)["Items"][0]
        started = time.monotonic()
        for start in range(0, executions, 25):
            items = []
            for n in range(start, min(start + 25, executions)):
                item = dict(template)
                item["execution_id"] = {"S": f"{n:032x}"}
                item["seq"] = {"N": str(n)}
                items.append({"PutRequest": {"Item": item}})
            aws.dynamodb().batch_write_item(RequestItems={table: items})
        written = time.monotonic() - started
        for name in os.listdir(data_dir):  # acknowledged, so on disk: what kill -9 now would leave
            if name in ("snapshot.bin", "wal.log"):
                shutil.copy(Path(data_dir) / name, Path(crash_copy) / name)
        template_bytes = len(json.dumps(template, default=_wire))  # binary attributes as the wire sends them
    finally:
        started_stop = time.monotonic()
        stack.stop()
        stop_seconds = time.monotonic() - started_stop
    return {
        "executions": executions,
        "write_seconds": written,
        "item_json_bytes": template_bytes,
        "stop_seconds": stop_seconds,
        "snapshot_bytes": (Path(data_dir) / "snapshot.bin").stat().st_size,
        "crash_bytes": sum(p.stat().st_size for p in Path(crash_copy).iterdir()),
        "crash_log_bytes": (Path(crash_copy) / "wal.log").stat().st_size,
    }


def restart(data_dir: str) -> dict[str, Any]:
    """The time the emulator takes to start on a data directory (restore included), and what it restored."""
    from local.emulator import Emulator

    started = time.monotonic()
    emulator = Emulator(data_dir=data_dir)
    emulator.start()
    seconds = time.monotonic() - started
    assert emulator.store is not None
    summary = emulator.store.summary
    result = {"seconds": seconds, "items": sum(summary.items.values()), "replayed": summary.records}
    os._exit(print(json.dumps(result), flush=True) or 0)  # no stop: its snapshot is not what is measured


def _wire(value: object) -> str:
    """A binary attribute (a packed timeline entry) as DynamoDB's JSON wire form carries it: base64."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, measures nothing")
    parser.add_argument("--part", choices=("campaign", "fill", "restart"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--crash-copy", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part == "campaign":
        print(json.dumps(campaign(args.contacts, args.data)))
        return
    if args.part == "fill":
        print(json.dumps(fill(args.data, args.executions, args.crash_copy)))
        return
    if args.part == "restart":
        restart(args.data)
        return

    contacts, executions = (5, 100) if args.smoke else (args.contacts, args.executions)
    with tempfile.TemporaryDirectory() as tmp:
        memory = run_child("--part", "campaign", "--contacts", str(contacts))
        durable = run_child("--part", "campaign", "--contacts", str(contacts), "--data", f"{tmp}/campaign")
        print(f"campaign of {contacts} zero-length calls, end to end:")
        for name, result in (("in memory", memory), ("data directory", durable)):
            print(f"  {name:15s} {result['calls_per_s']:6.2f} calls/s ({result['seconds']:.1f} s) {result['counts']}")
        print(f"  durability costs {1 - durable['calls_per_s'] / memory['calls_per_s']:.0%} of the throughput")

        data, crash = f"{tmp}/filled", f"{tmp}/crashed"
        os.makedirs(crash)
        filled = run_child("--part", "fill", "--executions", str(executions), "--data", data, "--crash-copy", crash)
        clean = run_child("--part", "restart", "--data", data)
        killed = run_child("--part", "restart", "--data", crash)
        print(f"a data directory holding {executions:,} executions (items of ~{filled['item_json_bytes']} B JSON):")
        print(f"  written in {filled['write_seconds']:.1f} s (batch_write_item of 25, through the emulator)")
        snapshot, stop = mb(filled["snapshot_bytes"]), filled["stop_seconds"]
        print(f"  after a clean stop: {snapshot} (snapshot), the stop took {stop:.1f} s")
        print(f"  restart after a clean stop: {clean['seconds']:.1f} s ({clean['items']:,} items)")
        print(
            f"  as kill -9 leaves it: {mb(filled['crash_bytes'])} (log {mb(filled['crash_log_bytes'])});"
            f" restart {killed['seconds']:.1f} s ({killed['items']:,} items, {killed['replayed']:,} records replayed)"
        )


if __name__ == "__main__":
    main()
