"""What one call costs in AWS requests and DynamoDB write units, by operation, and how hot its keys run.

Runs a batch on in-process moto (the integration tier's set-up, a pump standing in for Lambda's event
sources) and counts, with botocore hooks on the service's clients:

- AWS requests per contact by operation, the service's own apart from the event-source pollers';
- DynamoDB write request units (WRU) per contact by operation: each item written costs
  ceil(max(size before, size after) / 1 KB) units, twice that inside a transaction (a ConditionCheck
  element counts as a 1 KB write, a refused conditional write still costs its units); the
  table's own writes, plus apart the writes its global secondary indexes take (every index that holds
  the item before or after the write, ALL projections);
- writes per call to the batch item and to the agent's counter item (the two keys every call touches),
  and the calls per second they imply at DynamoDB's ~1,000 write units per second per item.

Scenarios: `answered` (every call answered: ringing, in-progress, completed), `mix` (the simulator's
outcome mix), `slot-bound` (the mix with an agent limit of 5, so claims find every slot taken).

A batch of 1,000 contacts or more counts its calls in counter shards (store/batches.py); `--shard-min N` lowers that
size, so a smaller run measures a large batch's keys.

Run: .venv/bin/python bench/call_cost.py [--contacts 300] [--scenario answered] [--shard-min 1]
     .venv/bin/python bench/call_cost.py --smoke
"""

from __future__ import annotations

import argparse
import math
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

EVENT_SOURCE_OPS = {
    "sqs.ReceiveMessage",
    "sqs.DeleteMessageBatch",
    "sqs.DeleteMessage",
    "sqs.ChangeMessageVisibility",
    "sqs.ChangeMessageVisibilityBatch",
    "sqs.GetQueueAttributes",
    "scheduler.ListSchedules",
    "scheduler.GetSchedule",
    "scheduler.DeleteSchedule",
}
ITEM_WRU_PER_SECOND = 1000  # what one item (partition key) sustains
SCENARIOS = {"answered": (1000, True), "mix": (1000, False), "slot-bound": (5, False)}


class Counting:
    """Requests by operation; write units by operation (table and indexes); writes per item key."""

    def __init__(self, tables: dict[str, Any]) -> None:
        self.tables = tables  # table name -> (key attribute names, [index key attribute names])
        self.requests: Counter[str] = Counter()
        self.wru: Counter[str] = Counter()
        self.gsi_wru: Counter[str] = Counter()
        self.item_wru: Counter[tuple[str, str]] = Counter()
        self.by_table: Counter[str] = Counter()  # DynamoDB requests by operation and table
        self.index_key_wru: Counter[tuple[str, str]] = Counter()  # (table/index, partition key value) -> units
        self.partition_wru: Counter[tuple[str, str]] = Counter()  # (table, partition key value) -> units
        self._pending: list[tuple[str, str, dict[str, Any], int, Any]] = []

    def table_of(self, params: dict[str, Any], event_name: str, **_: Any) -> None:
        if "TableName" in params:
            self.by_table[f"{event_name.rsplit('.', 1)[-1]} {params['TableName'].rsplit('-', 1)[-1]}"] += 1

    def before_writes(self, params: dict[str, Any], event_name: str, **_: Any) -> None:
        """Note each item a write touches and its size now (before the write)."""
        operation = event_name.rsplit(".", 1)[-1]
        noted: list[tuple[str, dict[str, Any], int]] = []  # table, key, units factor (0: a ConditionCheck)
        if operation == "TransactWriteItems":
            for element in params.get("TransactItems", []):
                (kind, body), *_ = element.items()
                key = body.get("Key") or self._key_of(body["TableName"], body.get("Item", {}))
                noted.append((body["TableName"], key, 0 if kind == "ConditionCheck" else 2))
        elif operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    body = request.get("PutRequest") or request.get("DeleteRequest") or {}
                    noted.append((table, body.get("Key") or self._key_of(table, body["Item"]), 1))
        else:
            key = params.get("Key") or self._key_of(params["TableName"], params.get("Item", {}))
            noted.append((params["TableName"], key, 1))
        self._pending = [(operation, table, key, factor, self._item(table, key)) for table, key, factor in noted]

    def after_writes(self, **_: Any) -> None:
        """Charge each noted item ceil(max(before, after) / 1 KB) units (x2 in a transaction)."""
        for operation, table, key, factor, before in self._pending:
            if not factor:  # a ConditionCheck: charged as a 1 KB transactional write, on its item's partition
                self.wru[operation] += 2
                self.partition_wru[(table, str(next(iter(key[self.tables[table][0][0]].values()))))] += 2
                continue
            after = self._item(table, key)
            units = factor * _units(before, after)
            self.wru[operation] += units
            self.item_wru[(table, _key_text(key))] += units
            self.partition_wru[(table, str(next(iter(key[self.tables[table][0][0]].values()))))] += units
            for index, names, projection in self.tables[table][1]:
                held = [i for i in (before, after) if i is not None and all(k in i.attrs for k in names)]
                moved = len(held) == 2 and _index_key(held[0], names) != _index_key(held[1], names)
                if projection == "KEYS_ONLY" and len(held) == 2 and not moved:
                    continue  # only keys projected, none changed: DynamoDB writes nothing to the index
                if held:  # an index entry written (a key change: deleted and written again)
                    size = 1 if projection == "KEYS_ONLY" else _units(*held)  # keys alone: well under 1 KB
                    units = size * (2 if moved else 1)
                    self.gsi_wru[operation] += units
                    self.index_key_wru[(f"{table.rsplit('-', 1)[-1]}.{index}", _index_key(held[-1], names)[0])] += units
        self._pending = []

    def _key_of(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.tables[table][0] if name in item}

    @staticmethod
    def _item(table: str, key: dict[str, Any]) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        try:
            return dynamodb_backends["123456789012"]["us-east-1"].get_item(table, key)
        except Exception:  # an item or table not there: nothing to charge for its size
            return None


def _size(item: Any) -> int:
    return int(item.size()) if item is not None else 0


def _units(*items: Any) -> int:
    """Write units of an item written: its larger size (before or after), per started KB, at least one."""
    return max(1, math.ceil(max(_size(i) for i in items) / 1024))


def _index_key(item: Any, names: list[str]) -> tuple[str, ...]:
    return tuple(str(item.attrs[n].value) for n in names)


def _key_text(key: dict[str, Any]) -> str:
    return "|".join(str(next(iter(v.values()))) for _, v in sorted(key.items()))


def run(contacts: int, scenario: str, shard_min: int | None = None) -> tuple[Counting, str, str, Counter[str]]:
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import aws
    from chalicelib.resources import TABLES, table_name
    from chalicelib.services.admin import seed_demo
    from chalicelib.services.container import get_dependencies
    from chalicelib.services.lifecycle import fold_ended
    from chalicelib.settings import get_settings
    from chalicelib.store import batches
    from local.bootstrap import create_resources
    from local.fidelity import serialize_dynamodb_writes
    from tests.support.api import post_csv
    from tests.support.batches import contacts_csv, patch_agent
    from tests.support.pump import Pump

    limit, answered = SCENARIOS[scenario]
    if shard_min is not None:  # a batch this size or larger gets counter shards (store/batches.py)
        batches.SHARD_MIN_CONTACTS = shard_min
    serialize_dynamodb_writes()
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        get_dependencies.cache_clear()
        settings = get_settings()
        create_resources(settings)
        deps = get_dependencies()
        import app as app_module

        tables = {
            table_name(settings, t): (
                [k for k in (t.partition_key, t.sort_key) if k],
                [(i.name, [k for k in (i.partition_key, i.sort_key) if k], i.projection) for i in t.indexes],
            )
            for t in TABLES
        }
        counting = Counting(tables)
        tenant = seed_demo("bench", deps)
        with Client(app_module.app, stage_name="dev") as client:
            patch_agent(client, tenant, max_concurrent_calls=limit)
            if answered:
                patch_agent(client, tenant, provider_config={"fixed_talk_seconds": 30})
            pump = Pump(app_module.app, deps)
            count_requests(counting.requests)  # first: it makes the clients anew, the hooks below go on them
            aws.dynamodb().meta.events.register("before-parameter-build.dynamodb", counting.table_of)
            writes = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
            for op in writes:
                aws.dynamodb().meta.events.register(f"before-parameter-build.dynamodb.{op}", counting.before_writes)
                aws.dynamodb().meta.events.register(f"after-call.dynamodb.{op}", counting.after_writes)
            key, agent_id = tenant
            batch_id = post_csv(client, key, {"agent_id": agent_id}, contacts_csv(contacts)).json_body["batch_id"]
            counting.requests.clear()
            counting.wru.clear()
            counting.gsi_wru.clear()
            counting.item_wru.clear()
            counting.by_table.clear()
            counting.index_key_wru.clear()
            counting.partition_wru.clear()
            client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"})
            pump.run(
                until=lambda: getattr(deps.batches.find(batch_id, summed=False), "status", None) == "completed",
                advance_seconds=2,
            )
            # the sweeper's fold of a co-located batch's counters is a write of the batch, counted with it
            done = deps.batches.find(batch_id, summed=False)
            if done is not None:
                fold_ended(deps, done)
            pump.close()
            batch = deps.batches.find(batch_id)
            statuses = Counter({k: int(v) for k, v in ((batch.execution_status if batch else None) or {}).items()})
        stop_counting()
        aws.reset()
        get_dependencies.cache_clear()
    return counting, batch_id, f"{tenant[0]}", statuses


def report(counting: Counting, contacts: int, batch_id: str, scenario: str, statuses: Counter[str]) -> None:
    n = contacts
    service = {k: v for k, v in counting.requests.items() if k not in EVENT_SOURCE_OPS}
    source = {k: v for k, v in counting.requests.items() if k in EVENT_SOURCE_OPS}
    print(f"== {scenario}: {n} contacts, zero-length simulated calls; outcomes {dict(statuses)}")
    print(f"{'AWS requests per contact (service code)':48} {'requests':>9} {'WRU':>7} {'GSI WRU':>8}")
    for op, count in sorted(service.items(), key=lambda kv: -kv[1]):
        short = op.split(".", 1)[1]
        print(f"  {op:46} {count / n:9.3f} {counting.wru[short] / n:7.2f} {counting.gsi_wru[short] / n:8.2f}")
    total_wru, total_gsi = sum(counting.wru.values()) / n, sum(counting.gsi_wru.values()) / n
    print(f"  {'total':46} {sum(service.values()) / n:9.3f} {total_wru:7.2f} {total_gsi:8.2f}")
    print(f"  {'event-source pollers (not service code)':46} {sum(source.values()) / n:9.3f}")
    print(
        "  single-item DynamoDB requests by table: "
        + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(counting.by_table.items(), key=lambda kv: -kv[1]))
    )
    _batch_keys(counting, n, batch_id)
    print("  writes per call on the hottest partition key of each table and index (~1,000 WRU/s per key):")
    hot = _hottest({**counting.partition_wru, **counting.index_key_wru})
    for where, (value, units, keys) in sorted(hot.items(), key=lambda kv: -kv[1][1]):
        if units >= n / 10:  # a key a good share of the calls write: one batch's, one agent's, the deployment's
            ceiling = ITEM_WRU_PER_SECOND / (units / n)
            print(
                f"    {where.rsplit('-', 1)[-1]:24} {value[:28]!r:32} {units / n:5.2f} WRU per call "
                f"-> ceiling ~{ceiling:,.0f} calls/s ({keys} keys written)"
            )


def _batch_keys(counting: Counting, n: int, batch_id: str) -> None:
    """The batch item's write units per call apart from its counter shards' (the hottest shard's ceiling)."""
    keys = {v: u for (t, v), u in counting.partition_wru.items() if t.endswith("batches")}
    item = keys.get(batch_id, 0)
    shards = [u for v, u in keys.items() if v.startswith(batch_id + "#")]
    line = f"  the batch item: {item / n:.2f} WRU per call -> ceiling ~{ITEM_WRU_PER_SECOND / max(item / n, 1e-9):,.0f}"
    if shards:
        hottest = max(shards) / n
        line += (
            f" calls/s; its {len(shards)} counter shards: {sum(shards) / n:.2f} WRU per call in all, the hottest"
            f" {hottest:.2f} -> ceiling ~{ITEM_WRU_PER_SECOND / hottest:,.0f}"
        )
    print(line + " calls/s")


def _hottest(units_by_key: dict[tuple[str, str], int]) -> dict[str, tuple[str, int, int]]:
    """Per table or index: its most written partition key value, its units, and how many keys were written."""
    hot: dict[str, tuple[str, int, int]] = {}
    for (where, value), units in units_by_key.items():
        best, most, keys = hot.get(where, ("", -1, 0))
        hot[where] = (value, units, keys + 1) if units > most else (best, most, keys + 1)
    return hot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, measures nothing")
    parser.add_argument(
        "--shard-min",
        type=int,
        default=None,
        help="count a batch of at least this many contacts in counter shards (default: the service's, 1,000)",
    )
    args = parser.parse_args()
    n = 10 if args.smoke else args.contacts
    every = ["answered"] if args.smoke else list(SCENARIOS)  # the smoke run checks the script: one is enough
    for scenario in every if args.scenario == "all" else [args.scenario]:
        counting, batch_id, _, statuses = run(n, scenario, args.shard_min)
        report(counting, n, batch_id, scenario, statuses)


if __name__ == "__main__":
    main()
