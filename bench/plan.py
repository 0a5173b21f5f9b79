"""The plan's latency: `GET /batches/{id}/plan` (and its CSV rows) for N contacts, computed as the route does.

A batch of N numbers from six countries (many US area codes, so many zone sets) is stored as the ingest
would store it (contact chunks in S3, the batch item in DynamoDB) on the embedded AWS (moto's server on
127.0.0.1, so chunk reads are HTTP requests), with an agent calling 09:00-21:00 on the recipient's clock,
at most 10 live calls and a retry config. Then the plan's service function is timed, cold (first in
this process) and warm (a second batch, as a warm Lambda would see it), and so is the CSV pass; and a
third batch whose chunks lack the contacts' zones (`z`, as chunks written before the ingest stored them),
so every number is looked up. Wall
time moves with the machine's load; the process's CPU time (the emulator's S3 serving included, as it
runs in this process) is the steadier figure.

Run: .venv/bin/python bench/plan.py [--sizes 10000 100000]
     .venv/bin/python bench/plan.py --smoke     # a tiny size, seconds
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PREFIXES: tuple[tuple[str, int], ...] = (  # (prefix, length of the E.164 number with its "+")
    *((f"+1{area}555", 12) for area in (212, 415, 312, 713, 305, 206, 617, 303, 808, 907, 602, 404)),
    ("+9198765", 13),
    ("+447700", 13),
    ("+49151", 14),
    ("+61412", 12),
    ("+551198", 14),
)


def number(i: int) -> str:
    """A plausible number of the i-th prefix: E.164 lengths of each country."""
    prefix, length = PREFIXES[i % len(PREFIXES)]
    return prefix + f"{i:015d}"[-(length - len(prefix)) :]


def zones(e164: str, stored: bool) -> dict[str, str]:
    """The contact's stored zones as the ingest writes them (`z`); none for a chunk written before it did."""
    from chalicelib.domain.calling_window import contact_zones

    return {"z": contact_zones(e164)} if stored else {}


def store_batch(deps, tenant_id: str, agent_id: str, n: int, stored: bool = True) -> str:  # type: ignore[no-untyped-def]
    from chalicelib import clock
    from chalicelib.domain.records import Batch

    batch_id = uuid.uuid4().hex
    size = deps.settings.contacts_chunk_size
    for index in range(0, n, size):
        deps.blobs.put_chunk(
            batch_id,
            index // size,
            [
                {"i": i, "row": i + 2, "n": number(i), "v": {"name": f"N{i}"}, **zones(number(i), stored)}
                for i in range(index, min(n, index + size))
            ],
        )
    now = clock.now_iso()
    retry = {"enabled": True, "max_retries": 2, "retry_intervals_minutes": [30, 60]}
    deps.batches.create(
        Batch.model_validate({
            "batch_id": batch_id, "tenant_id": tenant_id, "agent_id": agent_id, "status": "created",
            "created_at": now, "updated_at": now, "valid_contacts": n, "total_contacts": n, "chunk_size": size,
            "next_pos": 0, "retry_config": retry, "execution_status": {},
        })
    )  # fmt: skip
    return batch_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--smoke", action="store_true", help="a tiny size: checks the script, measures nothing")
    args = parser.parse_args()
    if args.smoke:
        args.sizes = [300]
    os.environ.setdefault("STAGE", "bench")
    from chalicelib.domain.agents import AgentCreate
    from chalicelib.domain.plan import PlanQuery
    from chalicelib.services.agents import create_agent
    from chalicelib.services.container import get_dependencies
    from chalicelib.services.plan import batch_plan, plan_csv_rows
    from chalicelib.settings import get_settings
    from local.bootstrap import create_resources
    from local.emulator import Emulator

    with Emulator():
        create_resources(get_settings())
        deps = get_dependencies()
        agent = create_agent(deps.agents, "bench", AgentCreate(name="bench", max_concurrent_calls=10), deps.settings)
        for n in args.sizes:
            runs = (("cold", True), ("warm", True), ("warm, chunks without zones", False))
            batches = [store_batch(deps, "bench", agent.agent_id, n, stored) for _, stored in runs]
            for (label, _), batch_id in zip(runs, batches, strict=True):
                started, cpu = time.perf_counter(), time.process_time()
                plan = batch_plan(deps, "bench", batch_id, PlanQuery())
                seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
                started = time.perf_counter()
                rows = sum(1 for _ in plan_csv_rows(deps, "bench", batch_id)) - 1
                csv_seconds = time.perf_counter() - started
                contacts, projection = plan["contacts"], plan["projection"]
                print(
                    f"plan {n:>7,} contacts ({label}): {seconds:.2f} s ({cpu_seconds:.2f} s CPU, the emulator's S3 "
                    f"included); CSV rows pass {csv_seconds:.2f} s ({rows:,} rows); "
                    f"now {contacts['callable_at_start']:,}, outside hours {contacts['waiting']['outside_hours']:,}; "
                    f"{projection['attempts']:,} attempts, completion {projection['completion_at']}"
                )


if __name__ == "__main__":
    main()
