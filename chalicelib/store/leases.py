"""Live-call leases: a slot per live call, counted per agent, so no agent ever exceeds its limit.

Taking a slot is one element of the dialer's claim transaction (the agent's counter, conditional on
room); the claim's own write on the execution marks it as holding the slot (`lease_until`), so a slot
is held exactly when a call is claimed, and no lease item is written. Releasing removes the mark and
decrements the counters only if the mark is still there (in the outcome's transaction, or alone), which
makes a repeated release harmless. An open call is found by the sweeper through the `by_open` index and
ended (its slot freed with it). Calls claimed before this release hold a lease item instead (`expires_at`,
the `by_expiry` index): released, swept and counted as before until none is left.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from botocore.exceptions import ClientError

from .. import aws
from ..domain.records import Execution
from ..resources import EXECUTIONS, LEASES, table_name
from ..settings import Settings
from .batches import BatchStore, co_name, co_shard, live_shard_key
from .dynamo import (
    INDEX_SHARDS,
    Fields,
    Request,
    Wire,
    av,
    cancellation_codes,
    from_item,
    query_shards,
    values,
)
from .execution_item import LEASE, LIVE_SHARD, present, remove_clause, stored_name

COUNTER = "live"
# An agent's live calls are counted in up to LIVE_SHARDS counters, each under its own partition key and holding
# its share of the limit (the shares add up to the limit, so the total never exceeds it): one counter takes
# ~1,000 write units/s (~250 calls/s at 4 per call). A shard's share is at least MIN_SHARE, so an agent whose
# limit is under 2 x MIN_SHARE keeps the one counter it always had (shard 0: the key used before sharding).
LIVE_SHARDS = 8
MIN_SHARE = 32
SHARD_FIELD = LIVE_SHARD  # on the execution: the shard its claim counted in, so its release frees that one
# LEASE: on the execution, it holds a live-call slot (until about then, for the operator)


def agent_key(tenant_id: str, agent_id: str) -> str:
    return f"{tenant_id}#{agent_id}"


def live_shards(limit: int) -> int:
    return max(1, min(LIVE_SHARDS, limit // MIN_SHARE))


def share(limit: int, shard: int) -> int:
    """Shard `shard`'s part of `limit` (0 for a shard the limit no longer uses)."""
    shards = live_shards(limit)
    return 0 if shard >= shards else limit // shards + (1 if shard < limit % shards else 0)


def shard_key(key: str, shard: int) -> str:
    """The partition key of an agent's (`key`) live-call shard: its counter and its leases."""
    return live_shard_key(key, shard)


def lease_key(execution: Execution) -> str:
    """The partition key of the lease a claimed execution holds: its agent's shard its claim counted in (shard 0
    for one claimed before sharding, which has no SHARD_FIELD)."""
    extra = execution.model_extra or {}
    counted = co_shard(extra)  # a claim that counted its batch there (its own record: LIVE_SHARD may be older)
    shard = counted if counted is not None else int(extra.get(SHARD_FIELD) or 0)
    return shard_key(agent_key(execution.tenant_id, execution.agent_id), shard)


def claim_order(execution_id: str, limit: int, batch_id: str | None = None, contacts: int = 0) -> list[int]:
    """The shards a claim tries, in turn: its own first (fixed per execution, so claims spread evenly), then
    the next ones, so a claim refused by a full shard takes a slot that another still has. With `batch_id` (a
    batch that counts on its agent's shards, of `contacts` contacts), its own first among only as many shards,
    from the batch's, as its contacts need at once: its calls gather in few shards, so an outcome's `not_last`
    (another call of the batch live in its shard) fails for few of them (store/batches.py co_place)."""
    shards = live_shards(limit)
    first = _hashed(execution_id) % shards
    if batch_id is not None:
        spread = min(shards, max(1, -(-contacts // max(1, limit // shards))))
        first = (_hashed(batch_id) + _hashed(execution_id) % spread) % shards
    return [(first + i) % shards for i in range(shards)]


def _hashed(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


class LeaseStore:
    def __init__(self, settings: Settings, batches: BatchStore) -> None:
        self.table = table_name(settings, LEASES)
        self._executions = table_name(settings, EXECUTIONS)
        self._batches = batches

    def take_elements(self, key: str, limit: int, shard: int = 0) -> list[Request]:
        """Transaction elements: count one more live call in `shard` if under its share of `limit` (the claim's
        own write on the execution sets LEASE: the lease itself, no lease item)."""
        key = shard_key(key, shard)
        return [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"agent_key": av(key), "lease_id": av(COUNTER)},
                    "UpdateExpression": "ADD live :one",
                    "ConditionExpression": "attribute_not_exists(live) OR live < :limit",
                    "ExpressionAttributeValues": values(one=1, limit=share(limit, shard)),
                }
            },
        ]

    def counter_release(self, key: str) -> list[Request]:
        """The element that counts one live call less on the agent, for a transaction whose write on the
        execution removes its LEASE on the condition that it is there (so a slot is freed once)."""
        return [self._minus_one(key)]

    def _minus_one(self, key: str, co_tag: str | None = None) -> Request:
        """One live call less on the agent's shard `key` (`co_tag`: and on the batch counted there)."""
        element: Request = {
            "TableName": self.table,
            "Key": {"agent_key": av(key), "lease_id": av(COUNTER)},
            "UpdateExpression": "ADD live :minus",
            "ExpressionAttributeValues": values(minus=-1),
        }
        if co_tag is not None:
            element["UpdateExpression"] += ", #bl :minus"
            element["ExpressionAttributeNames"] = {"#bl": co_name(co_tag, "live")}
        return {"Update": element}

    def release_elements(self, key: str, execution_id: str, co_tag: str | None = None) -> list[Request]:
        """Transaction elements that free the slot of a call claimed before leases were folded into the
        execution: delete its lease item (only if it is there, so a slot is freed once) and count one live call
        less on the agent. The batch's `live` moves with them (the caller's). `key`: the lease's own partition
        key (its shard's: `shard_key`)."""
        return [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": {"agent_key": av(key), "lease_id": av(execution_id)},
                    "ConditionExpression": "attribute_exists(lease_id)",
                }
            },
            self._minus_one(key, co_tag),
        ]

    def release(
        self, key: str, execution_id: str, batch_id: str, batch_shard: int | None = None, co_tag: str | None = None
    ) -> bool:
        """Free the slot; False when it was already freed (a repeated event, or the sweeper got there first).
        The execution's mark first; a call claimed before the fold holds a lease item instead. `batch_shard`:
        the batch counter shard the call's claim counted in (store/batches.py); `co_tag`: the batch's counters
        are on this agent shard (its claim's), so its `live` moves in the agent's element."""
        names: dict[str, str] = {}
        condition = present(LEASE, names)  # under either name: a call claimed before the short names
        unmark: Request = {
            "Update": {
                "TableName": self._executions,
                "Key": {"execution_id": av(execution_id)},
                "UpdateExpression": remove_clause([stored_name(LEASE), LEASE], names).strip(),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
            }
        }
        live = [] if co_tag is not None else [self._batches.live_update(batch_id, -1, batch_shard)]
        for first in ([unmark, self._minus_one(key, co_tag)], self.release_elements(key, execution_id, co_tag)):
            try:
                items: list[Request] = [*first, *live]
                aws.dynamodb().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
            except ClientError as exc:
                if cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                    continue
                raise
            return True
        return False

    # An agent's recorded cost per calendar month (its monthly budget): one item per agent and month.

    @staticmethod
    def _month(key: str, month: str) -> Wire:
        return {"agent_key": av(key), "lease_id": av(f"spend#{month}")}

    def month_spend_element(self, key: str, month: str, cost: float) -> Request:
        """Transaction element: add an ended call's cost to the agent's month (in the outcome's transaction)."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._month(key, month),
                "UpdateExpression": "ADD spend :c",
                "ExpressionAttributeValues": values(c=cost),
            }
        }

    def month_budget_check(self, key: str, month: str, budget: float) -> Request:
        """Transaction element (a claim's): the agent's month is still under its budget."""
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": self._month(key, month),
                "ConditionExpression": "attribute_not_exists(spend) OR spend < :b",
                "ExpressionAttributeValues": values(b=budget),
            }
        }

    def month_spend(self, key: str, month: str) -> float:
        item = (
            aws.dynamodb().get_item(TableName=self.table, Key=self._month(key, month), ConsistentRead=True).get("Item")
        )
        return float(from_item(item).get("spend", 0)) if item else 0.0

    def live(self, key: str) -> int:
        """The agent's live calls: its shards' counters added up (every shard: a lowered limit uses fewer)."""
        return sum(self._shard_counts(key, LIVE_SHARDS).values())

    def shards_with_room(self, key: str, limit: int) -> set[int]:
        """The shards whose counter is under its share of `limit` now (one read of every counter): where a claim
        refused by its own shard may still find a slot."""
        counts = self._shard_counts(key, live_shards(limit))
        return {s for s in range(live_shards(limit)) if counts.get(s, 0) < share(limit, s)}

    def _shard_counts(self, key: str, shards: int) -> dict[int, int]:
        keys = [{"agent_key": av(shard_key(key, s)), "lease_id": av(COUNTER)} for s in range(shards)]
        shard_of = {shard_key(key, s): s for s in range(shards)}
        request: Request | None = {self.table: {"Keys": keys, "ConsistentRead": True}}
        counts: dict[int, int] = {}
        while request:
            answer = aws.dynamodb().batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(self.table, []):
                fields = from_item(item)
                counts[shard_of[fields["agent_key"]]] = int(fields.get("live", 0))
            request = answer.get("UnprocessedKeys") or None
        return counts

    def count_live(self) -> int:
        """Slots held now, across every agent: one per live call (the open calls marked as holding one, and the
        lease items of calls claimed before the fold; one past its expiry counts until swept)."""
        total = 0
        names: dict[str, str] = {}
        marked = present(LEASE, names)
        for shard in range(1, INDEX_SHARDS + 1):
            total += _count(
                {
                    "TableName": self._executions,
                    "IndexName": "by_open",
                    "KeyConditionExpression": "open_shard = :s",
                    "FilterExpression": marked,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values(s=str(shard)),
                    "Select": "COUNT",
                }
            )
            total += _count(
                {
                    "TableName": self.table,
                    "IndexName": "by_expiry",
                    "KeyConditionExpression": "lease_shard = :s",
                    "ExpressionAttributeValues": values(s=str(shard)),
                    "Select": "COUNT",
                }
            )
        return total

    def expired(self, now_iso: str) -> Iterator[Fields]:
        return query_shards(
            "lease_shard",
            "expires_at < :now",
            TableName=self.table,
            IndexName="by_expiry",
            ExpressionAttributeValues=values(now=now_iso),
        )


def _count(request: Request) -> int:
    """Every page of a COUNT query, summed."""
    total = 0
    while True:
        page = aws.dynamodb().query(**request)
        total += int(page.get("Count", 0))
        if "LastEvaluatedKey" not in page:
            return total
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
