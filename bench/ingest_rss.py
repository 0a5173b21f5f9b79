"""Big files: ingest time and peak RSS of the ingest handler and of the dispatcher, at 100k and 1M rows.

The emulator (moto server) runs in this process; each measured function runs in a fresh child
process pointed at it, so the child's peak RSS (VmHWM) is the function's own, not moto's.
Goals: ingest handler <= 256 MB (fits a 512 MB Lambda) and flat as rows grow; dispatcher flat.

Run: .venv/bin/python bench/ingest_rss.py [--sizes 100000 1000000]
     .venv/bin/python bench/ingest_rss.py --smoke     # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("contact_number,customer_name,plan\n")
        for i in range(rows):
            area, rest = divmod(i, 800 * 10000)
            exchange, line = divmod(rest, 10000)
            out.write(f"+1{212 + area}{200 + exchange}{line:04d},Name {i},plan{i % 3}\n")


def child(role: str, arg: str) -> None:
    from chalicelib.services.container import get_dependencies

    deps = get_dependencies()
    started = time.perf_counter()
    if role == "ingest":
        from chalicelib.services.ingest import ingest_object

        ingest_object(deps, arg, "bench")
        result = {"seconds": time.perf_counter() - started}
    else:
        from chalicelib.services.dispatch import dispatch_step

        batch_id, pos = arg.split(":")
        deps.batches.set_fields(batch_id, {"next_pos": int(pos), "status": "running"})
        for _ in range(3):
            batch = deps.batches.require(batch_id)
            deps.batches.set_fields(batch_id, {"execution_status": {}})  # keep the backlog check from waiting
            dispatch_step(deps, batch_id, batch.next_pos, 0)
        result = {"seconds": time.perf_counter() - started, "next_pos": deps.batches.require(batch_id).next_pos}
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def run_child(kind: str, arg: str, env: dict[str, str]) -> dict[str, Any]:
    """One function's work in a fresh process (its peak RSS is its own); returns the JSON it printed."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, arg], env=env, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, measures nothing")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.smoke:
        args.sizes = [500]
    from chalicelib import aws
    from chalicelib.resources import DIAL_QUEUE, INGEST_QUEUE
    from chalicelib.services.admin import seed_demo
    from chalicelib.services.container import get_dependencies
    from chalicelib.settings import get_settings
    from local.bootstrap import create_resources
    from local.emulator import Emulator

    os.environ.setdefault("STAGE", "bench")
    with Emulator() as emulator:
        create_resources(get_settings())
        _, agent_id = seed_demo("bench")
        deps = get_dependencies()
        aws.dynamodb().update_item(
            TableName=deps.agents._table,
            Key={"tenant_id": {"S": "bench"}, "agent_id": {"S": agent_id}},
            UpdateExpression="SET max_concurrent_calls = :m",
            ExpressionAttributeValues={":m": {"N": "1000"}},
        )
        env = {**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint_url}
        for rows in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "contacts.csv"
                write_csv(path, rows)
                key = f"inbox/{agent_id}/bench-{rows}.csv"
                aws.s3().upload_file(str(path), deps.blobs.bucket, key)
                size = path.stat().st_size
            # The notification the upload caused is consumed here by the child instead of the ingest queue.
            aws.sqs().purge_queue(QueueUrl=deps.queues.url(INGEST_QUEUE))
            ingest = run_child("ingest", key, env)
            [batch] = [b for b in deps.batches.list_for_agent("bench", agent_id) if b.file_name == f"bench-{rows}.csv"]
            print(
                f"ingest {rows:>9,} rows ({size / 1e6:.1f} MB): {ingest['seconds']:.1f} s "
                f"({rows / ingest['seconds']:,.0f} rows/s), peak RSS {ingest['peak_rss_mb']:.0f} MB, "
                f"status {batch.status}, valid {batch.valid_contacts:,}"
            )
            for pos in sorted({0, max(0, batch.valid_contacts - 3 * 2000)}):
                dispatch = run_child("dispatch", f"{batch.batch_id}:{pos}", env)
                print(
                    f"  dispatcher 3 steps from contact {pos:>9,}: {dispatch['seconds']:.1f} s, "
                    f"peak RSS {dispatch['peak_rss_mb']:.0f} MB"
                )
            aws.sqs().purge_queue(QueueUrl=deps.queues.url(DIAL_QUEUE))


if __name__ == "__main__":
    main()
