"""Large CSV exports: time and peak RSS of writing N executions to S3 the way GET executions.csv does.

The executions come from a generator shaped like the store's items (DynamoDB is not measured here:
moto's query slows with table size, so its rate would say nothing about AWS), and go through the
export's own code (`services/exports.py`: rows, spreadsheet escaping, multipart parts of 8 MiB) to the
emulator's S3, which runs in this process; the export runs in a fresh child process, so its peak RSS
(VmHWM) is its own. Goal: flat as the batch grows.

Run: .venv/bin/python bench/export_rss.py [--sizes 100000 1000000]
     .venv/bin/python bench/export_rss.py --smoke     # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def executions(n: int) -> Iterator[Any]:
    """As the store yields them for an export: records built without validation."""
    from chalicelib.domain.records import Execution

    for i in range(n):
        yield Execution.model_construct(
            **{
                "execution_id": f"{i:032x}",
                "user_number": f"+1212{2000000 + i:07d}",
                "recipient_data": {"customer_name": f"Name {i}", "plan": f"plan{i % 3}"},
                "status": "completed",
                "attempt": 1,
                "conversation_duration": 42.5,
                "total_cost": 0.0354,
                "answered_by_voice_mail": False,
                "hangup_reason": "call ended by user",
                "error_message": None,
                "updated_at": "2026-11-22T10:00:00.000Z",
            }
        )


def child(rows: int) -> None:
    from ingest_rss import peak_rss_mb

    from chalicelib.domain.batch_status import BatchStatus
    from chalicelib.domain.records import Batch
    from chalicelib.services import exports
    from chalicelib.services.container import get_dependencies

    deps = get_dependencies()
    batch = Batch(
        batch_id=f"b{rows}",
        tenant_id="bench",
        agent_id="bench",
        status=BatchStatus.COMPLETED,
        columns=["contact_number", "customer_name", "plan"],
        number_column="contact_number",
    )
    started = time.perf_counter()
    # inline_max_rows 0: every size takes the S3 path (the one whose memory matters)
    sink = exports._Sink(deps.blobs, f"exports/bench/b{rows}/x.csv", "x.csv", 0)
    for row in exports._rows(batch, executions(rows)):
        sink.row(row)
    export = sink.finish()
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - started,
                "parts": len(sink.upload.parts) or 1,  # 0: small enough for one PUT
                "in_s3": export.key is not None,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, measures nothing")
    parser.add_argument("--child", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if args.smoke:
        args.sizes = [2000]
    from chalicelib import aws
    from chalicelib.resources import bucket_name
    from chalicelib.settings import get_settings
    from local.bootstrap import create_resources
    from local.emulator import Emulator

    os.environ.setdefault("STAGE", "bench")
    with Emulator() as emulator:
        create_resources(get_settings())
        env = {**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint_url}
        for rows in args.sizes:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(rows)], env=env, check=True, capture_output=True, text=True
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            head = aws.s3().head_object(Bucket=bucket_name(get_settings()), Key=f"exports/bench/b{rows}/x.csv")
            size, seconds = head["ContentLength"] / 1e6, result["seconds"]
            print(
                f"export {rows:>9,} executions: {seconds:.1f} s ({rows / seconds:,.0f} rows/s), {size:.1f} MB "
                f"in {result['parts']} parts, peak RSS {result['peak_rss_mb']:.0f} MB"
            )


if __name__ == "__main__":
    main()
