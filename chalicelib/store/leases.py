"""Live-call leases: a slot per live call, counted per agent, so no agent ever exceeds its limit.

Taking a slot is two elements of the dialer's claim transaction (the agent's counter,
conditional on room, and the lease item), so a slot is held exactly when a call is claimed.
Releasing deletes the lease and decrements the counters only if the lease still exists,
which makes a repeated release harmless. A lease carries an expiry; the sweeper reclaims
leases whose call never reported back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from .. import aws
from ..resources import LEASES, table_name
from ..settings import Settings
from .batches import BatchStore
from .dynamo import (
    INDEX_SHARDS,
    Fields,
    Request,
    Wire,
    av,
    cancellation_codes,
    from_item,
    index_shard,
    query_shards,
    values,
)

COUNTER = "live"


def agent_key(tenant_id: str, agent_id: str) -> str:
    return f"{tenant_id}#{agent_id}"


class LeaseStore:
    def __init__(self, settings: Settings, batches: BatchStore) -> None:
        self.table = table_name(settings, LEASES)
        self._batches = batches

    def take_elements(self, key: str, execution_id: str, batch_id: str, limit: int, expires_at: str) -> list[Any]:
        """Transaction elements: count one more live call if under `limit`, and record the lease."""
        return [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"agent_key": av(key), "lease_id": av(COUNTER)},
                    "UpdateExpression": "ADD live :one",
                    "ConditionExpression": "attribute_not_exists(live) OR live < :limit",
                    "ExpressionAttributeValues": values(one=1, limit=limit),
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        "agent_key": av(key),
                        "lease_id": av(execution_id),
                        "batch_id": av(batch_id),
                        "expires_at": av(expires_at),
                        "lease_shard": av(index_shard(execution_id)),  # the by_expiry index's key, sharded
                    },
                    "ConditionExpression": "attribute_not_exists(lease_id)",
                }
            },
        ]

    def release_elements(self, key: str, execution_id: str) -> list[Request]:
        """Transaction elements that free the slot: delete the lease (only if it is there, so a slot is freed
        once) and count one live call less on the agent. The batch's `live` moves with them (the caller's)."""
        return [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": {"agent_key": av(key), "lease_id": av(execution_id)},
                    "ConditionExpression": "attribute_exists(lease_id)",
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"agent_key": av(key), "lease_id": av(COUNTER)},
                    "UpdateExpression": "ADD live :minus",
                    "ExpressionAttributeValues": values(minus=-1),
                }
            },
        ]

    def release(self, key: str, execution_id: str, batch_id: str) -> bool:
        """Free the slot; False when it was already freed (a repeated event, or the sweeper got there first)."""
        items: list[Any] = [*self.release_elements(key, execution_id), self._batches.live_update(batch_id, -1)]
        try:
            aws.dynamodb().transact_write_items(TransactItems=items)
        except ClientError as exc:
            if cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                return False
            raise
        return True

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
        item = (
            aws.dynamodb()
            .get_item(TableName=self.table, Key={"agent_key": av(key), "lease_id": av(COUNTER)}, ConsistentRead=True)
            .get("Item")
        )
        return int(from_item(item).get("live", 0)) if item else 0

    def count_live(self) -> int:
        """Leases held now, across every agent: one per live call (a lease past its expiry counts until swept)."""
        total = 0
        for shard in range(1, INDEX_SHARDS + 1):
            request: Request = {
                "TableName": self.table,
                "IndexName": "by_expiry",
                "KeyConditionExpression": "lease_shard = :s",
                "ExpressionAttributeValues": values(s=str(shard)),
                "Select": "COUNT",
            }
            while True:
                page = aws.dynamodb().query(**request)
                total += int(page.get("Count", 0))
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return total

    def expired(self, now_iso: str) -> Iterator[Fields]:
        return query_shards(
            "lease_shard",
            "expires_at < :now",
            TableName=self.table,
            IndexName="by_expiry",
            ExpressionAttributeValues=values(now=now_iso),
        )
