"""Running a campaign on the local stack: start lateness, requests per contact, throughput, O(1) reads.

Prints:
- start lateness: scheduled_at to the first dial (goal <= 2 s), SQS-delay path;
- AWS requests per contact over a whole run, by operation (botocore event hook);
- contacts/s end to end for a 2,000-contact batch with zero-length simulated calls, and the CPU
  seconds per contact of the service's process and the emulator's (steadier than wall time on a busy machine);
- GET /batches/{id} latency at 100 vs 10,000 contacts (goal: ratio <= 1.5).

Run: .venv/bin/python bench/campaign.py [--contacts 2000]
     .venv/bin/python bench/campaign.py --smoke     # tiny sizes, seconds
     .venv/bin/python bench/campaign.py --requests-only --contacts 300   # only the requests per contact
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from stackutil import Api, RequestCounter, numbers_csv, start_stack, wait_for

EVENT_SOURCE_OPS = {
    "sqs.ReceiveMessage",
    "sqs.DeleteMessageBatch",
    "sqs.DeleteMessage",
    "sqs.ChangeMessageVisibility",
    "sqs.ChangeMessageVisibilityBatch",
    "sqs.GetQueueAttributes",
}


class DialClock:
    """Wraps the provider to timestamp dials (the benchmark's only hook into the service)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name
        self.first: float | None = None
        self.count = 0
        self.lock = threading.Lock()

    def place_call(self, request: Any, agent: Any) -> str:
        with self.lock:
            self.count += 1
            if self.first is None:
                self.first = time.time()
        return str(self.inner.place_call(request, agent))


def cpu_seconds(pid: int | None) -> tuple[float, float]:
    """User and system CPU seconds a process has used so far (Linux /proc; zeros when unknown)."""
    if pid is None or not os.path.exists(f"/proc/{pid}/stat"):
        return 0.0, 0.0
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, measures nothing")
    parser.add_argument("--requests-only", action="store_true", help="only the whole run's requests per contact")
    args = parser.parse_args()
    # lateness runs, seconds ahead, the small and large batch for the O(1) reads, GETs per batch
    runs, ahead, small_n, large_n, gets = (1, 2, 10, 50, 5) if args.smoke else (3, 4, 100, 10_000, 200)
    if args.requests_only:
        runs, gets = 0, 0
    if args.smoke:
        args.contacts = 20
    stack = start_stack(SIMULATOR_SPEED="0", POWERTOOLS_LOG_LEVEL="WARNING")
    try:
        from chalicelib.services.container import get_dependencies

        deps = get_dependencies()
        dials = DialClock(deps.providers["simulator"])
        deps.providers["simulator"] = dials  # type: ignore[assignment]
        api = Api(stack.api_url, stack.api_key)
        agent = stack.agent_id
        # Zero-length calls: the dialer's reserved concurrency bounds the dial rate, not the live-call limit.
        # 50 keeps the dial backlog at ~100 messages (the dispatcher bounds it at 2 x capacity): moto's SQS
        # slows down with a deep queue (every receive scans it), which real SQS does not.
        api.session.patch(f"{api.url}/agents/{agent}", json={"max_concurrent_calls": 50}).raise_for_status()

        # 1. start lateness (SQS-delay path: starts under 15 minutes away are exact to the second)
        lateness = []
        for _ in range(runs):
            batch = api.post_csv(agent, numbers_csv(5, start=len(lateness) * 10))["batch_id"]
            dials.first = None
            at = (datetime.now(UTC) + timedelta(seconds=ahead)).replace(microsecond=0)
            api.post(f"/batches/{batch}/schedule", json={"scheduled_at": at.isoformat()})
            wait_for(lambda: dials.first is not None, 30, 0.01)
            lateness.append(dials.first - at.timestamp())  # type: ignore[operator]
            wait_for(lambda b=batch: api.get(f"/batches/{b}")["status"] == "completed", 60)
        if lateness:
            print(
                f"start lateness (scheduled_at -> first dial), s: {', '.join(f'{x:.2f}' for x in lateness)}"
                f"  max {max(lateness):.2f}  (goal <= 2 s)"
            )

        # 2+3. whole run: requests per contact, contacts/s
        counter = RequestCounter()
        counter.install()
        csv = numbers_csv(args.contacts, start=100_000)
        batch = api.post_csv(agent, csv)["batch_id"]
        dials.count = 0
        counter.enabled = True
        processes = {"service": os.getpid(), "emulator": stack.emulator.pid}
        cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        api.post(f"/batches/{batch}/run")
        wait_for(lambda: api.get(f"/batches/{batch}")["status"] == "completed", 3600, 0.5)
        elapsed = time.monotonic() - started
        counter.enabled = False
        cpu_after = {name: cpu_seconds(pid) for name, pid in processes.items()}
        status = api.get(f"/batches/{batch}")
        print(
            f"run: {args.contacts} contacts, {dials.count} dials, completed in {elapsed:.1f} s: "
            f"{args.contacts / elapsed:.1f} contacts/s end to end  counts={status['execution_status']}"
        )
        per_contact = {
            name: [(a - b) / args.contacts * 1000 for a, b in zip(cpu_after[name], cpu_before[name], strict=True)]
            for name in processes
        }
        print(
            "CPU per contact: "
            + ", ".join(
                f"{name} {user + system:.1f} ms (user {user:.1f}, system {system:.1f})"
                for name, (user, system) in per_contact.items()
            )
            + f"  (1-min load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end)"
        )
        service = {k: v for k, v in counter.counts.items() if k not in EVENT_SOURCE_OPS}
        source = {k: v for k, v in counter.counts.items() if k in EVENT_SOURCE_OPS}
        print("AWS requests per contact made by the service code, by operation:")
        for op, n in sorted(service.items(), key=lambda kv: -kv[1]):
            print(f"  {op:40s} {n / args.contacts:6.3f}")
        print(f"  {'total':40s} {sum(service.values()) / args.contacts:6.3f}")
        print("made by the event-source pollers (Lambda's event source mapping in AWS):")
        for op, n in sorted(source.items(), key=lambda kv: -kv[1]):
            print(f"  {op:40s} {n / args.contacts:6.3f}")

        # 4. O(1) reads
        if not gets:
            return
        small = api.post_csv(agent, numbers_csv(small_n, start=200_000))["batch_id"]
        large = api.post_csv(agent, numbers_csv(large_n, start=300_000))["batch_id"]
        timings = {}
        for name, batch_id in (("small", small), ("large", large)):
            samples = []
            for _ in range(gets):
                t0 = time.perf_counter()
                api.get(f"/batches/{batch_id}")
                samples.append(time.perf_counter() - t0)
            timings[name] = statistics.median(samples)
        ratio = timings["large"] / timings["small"]
        print(
            f"GET /batches/{{id}} median: {small_n:,} contacts {timings['small'] * 1000:.2f} ms, "
            f"{large_n:,} contacts {timings['large'] * 1000:.2f} ms, ratio {ratio:.2f} (goal <= 1.5)"
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
