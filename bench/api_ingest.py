"""POST /batches latency for a 100,000-row CSV through the API on the local stack (goal <= 8 s).

Run: .venv/bin/python bench/api_ingest.py [--rows 100000] [--repeat 3]
     .venv/bin/python bench/api_ingest.py --smoke     # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import statistics
import time

from stackutil import Api, numbers_csv, start_stack


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, measures nothing")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.repeat = 200, 1
    stack = start_stack(POWERTOOLS_LOG_LEVEL="WARNING")
    try:
        api = Api(stack.api_url, stack.api_key)
        csv = numbers_csv(args.rows)
        print(f"file: {args.rows} rows, {len(csv) / 1e6:.2f} MB")
        timings = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            created = api.post_csv(stack.agent_id, csv)
            timings.append(time.perf_counter() - t0)
            assert created["valid_contacts"] == args.rows, created
        print(
            f"POST /batches {args.rows} rows: "
            + ", ".join(f"{t:.2f}" for t in timings)
            + f" s; median {statistics.median(timings):.2f} s (goal <= 8 s)"
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
