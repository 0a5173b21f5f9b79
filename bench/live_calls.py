"""Live-call limit on the local stack: utilisation and the maximum ever seen.

For N in (5, 20): an agent with max_concurrent_calls = N, a backlog of 10 x N contacts, simulated
calls of a fixed length. From the executions' claim and end times it computes the mean number of
live calls over the run divided by N (goal >= 0.95) and the maximum ever live (must be <= N).

Run: .venv/bin/python bench/live_calls.py [--talk 20] [--rounds 10]
     .venv/bin/python bench/live_calls.py --smoke     # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
from datetime import datetime

from stackutil import Api, numbers_csv, start_stack, wait_for


def parse(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def live_profile(intervals: list[tuple[float, float]]) -> tuple[float, int]:
    """Time-weighted mean and maximum of overlapping intervals, over [first start, last end]."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    live = peak = 0
    area = 0.0
    last = events[0][0]
    for at, delta in events:
        area += live * (at - last)
        last = at
        live += delta
        peak = max(peak, live)
    span = events[-1][0] - events[0][0]
    return area / span, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--talk", type=float, default=20.0, help="seconds per simulated call")
    parser.add_argument("--rounds", type=int, default=10, help="backlog = rounds x N contacts")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, measures nothing")
    args = parser.parse_args()
    limits = (2,) if args.smoke else (5, 20)
    if args.smoke:
        args.talk, args.rounds = 0.5, 2
    stack = start_stack(SIMULATOR_SPEED="1", POWERTOOLS_LOG_LEVEL="WARNING")
    try:
        api = Api(stack.api_url, stack.api_key)
        for n in limits:
            agent = api.post(
                "/agents",
                json={
                    "name": f"load {n}",
                    "max_concurrent_calls": n,
                    "call_start_hour": 0,
                    "call_end_hour": 24,
                    "provider_config": {"fixed_talk_seconds": args.talk},
                },
            )["agent_id"]
            contacts = n * args.rounds
            batch = api.post_csv(agent, numbers_csv(contacts, start=n * 100_000))["batch_id"]
            api.post(f"/batches/{batch}/run")
            wait_for(lambda b=batch: api.get(f"/batches/{b}")["status"] == "completed", 30 * args.rounds * args.talk, 1)
            executions = []
            cursor = ""
            while True:
                response = api.session.get(f"{api.url}/batches/{batch}/executions?limit=1000{cursor}", timeout=60)
                executions.extend(response.json())
                if not response.headers.get("X-Next-Cursor"):
                    break
                cursor = f"&cursor={response.headers['X-Next-Cursor']}"
            intervals = [(parse(e["claimed_at"]), parse(e["ended_at"])) for e in executions]
            mean, peak = live_profile(intervals)
            span = max(e for _, e in intervals) - min(s for s, _ in intervals)
            ideal = args.rounds * args.talk
            print(
                f"N={n}: {contacts} calls of {args.talk:.0f} s in {span:.1f} s (ideal {ideal:.0f} s); "
                f"mean live / N = {mean / n:.3f} (goal >= 0.95); max live = {peak} (must be <= {n})"
            )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
