"""Calls-per-second pacing on the local stack, through the real Twilio SDK to a fake Twilio on 127.0.0.1.

For each rate R in (1, 5, 20): an agent on Twilio with calls_per_second = R and room for every call
at once (max_concurrent_calls 1000), a batch of max(10, 4 R) contacts. From the times the fake
accepted each Calls.create it prints the achieved rate over the run, the most calls in any one
second (the burst; must be <= R), and the shortest gap between two calls (ideally 1/R).

Run: .venv/bin/python bench/pacing.py
     .venv/bin/python bench/pacing.py --smoke     # one rate, a few calls, seconds
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

from stackutil import Api, numbers_csv, start_stack, wait_for

from tests.support.fake_twilio import FakeTwilio


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, measures nothing")
    smoke = parser.parse_args().smoke
    fake = FakeTwilio()
    with fake.running():
        stack = start_stack(
            POWERTOOLS_LOG_LEVEL="WARNING",
            TWILIO_ACCOUNT_SID=fake.account_sid,
            TWILIO_AUTH_TOKEN=fake.auth_token,
            TWILIO_API_BASE_URL=fake.url,
        )
        try:
            api = Api(stack.api_url, stack.api_key)
            for rate in (5,) if smoke else (1, 5, 20):
                agent = api.post(
                    "/agents",
                    json={
                        "name": f"paced {rate}",
                        "provider": "twilio",
                        "calls_per_second": rate,
                        "max_concurrent_calls": 1000,
                        "from_phone_numbers": ["+12025550147"],
                        "call_start_hour": 0,
                        "call_end_hour": 24,
                        "provider_config": {"credentials": f"twilio-{rate}"},  # its own pace
                    },
                )
                # Every agent's credentials name resolves to the same fake account through the env.
                os.environ[f"TWILIO_{rate}_ACCOUNT_SID"] = fake.account_sid
                os.environ[f"TWILIO_{rate}_AUTH_TOKEN"] = fake.auth_token
                n = 3 if smoke else max(10, 4 * rate)
                before = len(fake.accepted_at)
                batch = api.post_csv(agent["id"], numbers_csv(n, start=rate * 1000))
                api.post(f"/batches/{batch['batch_id']}/run")
                started = time.monotonic()
                wait_for(lambda n=n, before=before: len(fake.calls) - before >= n, timeout=120 + 2 * n / rate)
                times = sorted(t.timestamp() for t in fake.accepted_at[before:])
                span = times[-1] - times[0]
                gaps = [b - a for a, b in itertools.pairwise(times)]
                burst = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
                print(
                    f"calls_per_second={rate}: {n} calls in {span:.2f} s -> {(n - 1) / span:.2f} calls/s; "
                    f"most in any 1 s: {burst}; shortest gap {min(gaps) * 1000:.0f} ms "
                    f"(ideal {1000 / rate:.0f} ms); run took {time.monotonic() - started:.1f} s"
                )
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
