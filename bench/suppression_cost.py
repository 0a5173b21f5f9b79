"""What suppression and per-number contact limits cost per call: AWS requests and transaction items.

Runs the same batch twice on in-process moto (the integration tier's set-up, a pump standing in for
Lambda's event sources), counting every AWS request by operation with a botocore hook and the items
of each claim transaction (the dialer's TransactWriteItems that moves an execution to `initiated`):

- baseline: the claim without the number's element (as before issue 15);
- guarded: the claim with it, the tenant holding suppressed numbers (not in the batch) and its agent
  a contact limit of 3 attempts per 7 days, so the condition on the ring slot is evaluated on every claim.

Prints requests per contact by operation for both, the difference, and claim items per claim.
Goal: at most one extra transaction item per claim, no extra round trip.

Run: .venv/bin/python bench/suppression_cost.py [--contacts 400]
     .venv/bin/python bench/suppression_cost.py --smoke
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "STAGE": "bench",
        "SIMULATOR_SPEED": "0",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "PACING_MAX_SLEEP_SECONDS": "0",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
from stackutil import count_requests, stop_counting  # noqa: E402


class Counting:
    """AWS requests by operation, and the item count of each claim transaction."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.claim_items: list[int] = []

    def transaction(self, params: dict[str, Any], **_: Any) -> None:
        """A claim: its first element moves an execution to `initiated`, setting `claimed_at`."""
        items = params.get("TransactItems", [])
        first = items[0].get("Update", {}) if items else {}
        if "claimed_at" in first.get("ExpressionAttributeNames", {}).values():
            self.claim_items.append(len(items))


def run(contacts: int, guarded: bool) -> Counting:
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import aws
    from chalicelib.domain.suppressions import SuppressionSource
    from chalicelib.services import dialing
    from chalicelib.services.admin import seed_demo
    from chalicelib.services.container import get_dependencies
    from chalicelib.settings import get_settings
    from local.bootstrap import create_resources
    from local.fidelity import serialize_dynamodb_writes
    from tests.support.batches import contacts_csv, patch_agent
    from tests.support.pump import Pump

    serialize_dynamodb_writes()
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        get_dependencies.cache_clear()
        create_resources(get_settings())
        deps = get_dependencies()
        import app as app_module

        tenant = seed_demo("bench", deps)
        original = dialing.guard_element
        if guarded:
            for i in range(50):  # a list the batch does not touch: every claim's condition passes
                deps.numbers.suppress("bench", f"+1303555{i:04d}", SuppressionSource.API)
        else:
            dialing.guard_element = lambda *_: None  # type: ignore[assignment,return-value]
        counting = Counting()
        with Client(app_module.app, stage_name="dev") as client:
            patch_agent(client, tenant, max_concurrent_calls=1000)
            if guarded:
                patch_agent(client, tenant, max_attempts_per_number=3, attempt_window_days=7)
            pump = Pump(app_module.app, deps)
            claims = ("dynamodb", "before-parameter-build.dynamodb.TransactWriteItems", counting.transaction)
            count_requests(counting.requests, claims)
            from tests.support.api import post_csv

            key, agent_id = tenant
            batch_id = post_csv(client, key, {"agent_id": agent_id}, contacts_csv(contacts)).json_body["batch_id"]
            client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"})
            pump.run(
                until=lambda: getattr(deps.batches.find(batch_id), "status", None) == "completed", advance_seconds=2
            )
            pump.close()
        dialing.guard_element = original
        stop_counting()
        aws.reset()
        get_dependencies.cache_clear()
    return counting


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=400)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, measures nothing")
    args = parser.parse_args()
    n = 10 if args.smoke else args.contacts
    base, guarded = run(n, guarded=False), run(n, guarded=True)
    ops = sorted(set(base.requests) | set(guarded.requests))
    print(f"{n} contacts, zero-length simulated calls; AWS requests per contact (whole run, every function)")
    print(f"{'operation':40} {'baseline':>9} {'guarded':>9} {'extra':>9}")
    for op in ops:
        b, g = base.requests[op] / n, guarded.requests[op] / n
        print(f"{op:40} {b:9.3f} {g:9.3f} {g - b:+9.3f}")
    total_b, total_g = sum(base.requests.values()) / n, sum(guarded.requests.values()) / n
    print(f"{'total':40} {total_b:9.3f} {total_g:9.3f} {total_g - total_b:+9.3f}")

    def items(c: Counting) -> str:
        return f"{sum(c.claim_items) / max(1, len(c.claim_items)):.2f} items over {len(c.claim_items)} claims"

    print(f"claim transaction: baseline {items(base)}; guarded {items(guarded)}")


if __name__ == "__main__":
    main()
