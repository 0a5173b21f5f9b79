"""Calls-per-second pacing per provider account, shared by every dialer instance.

One item per key in the leases table (`lease_id` "pace") holds the next free send time in
epoch milliseconds. Reserving a slot is a compare-and-set on it, so concurrent dialers get
distinct slots `interval` apart; a rate-limit answer from the provider pushes it later,
which slows every call of that account, not just the refused one.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from .. import aws
from ..resources import LEASES, table_name
from ..settings import Settings
from .dynamo import av

PACE = "pace"
MAX_RACES = 8


class Pacer:
    def __init__(self, settings: Settings) -> None:
        self.table = table_name(settings, LEASES)

    def _key(self, key: str) -> dict[str, dict[str, str]]:
        return {"agent_key": av(key), "lease_id": av(PACE)}

    def _next(self, key: str) -> int | None:
        item = aws.dynamodb().get_item(TableName=self.table, Key=self._key(key), ConsistentRead=True).get("Item")
        return int(item["next_at"]["N"]) if item and "next_at" in item else None

    def reserve(self, key: str, interval_ms: int, now_ms: int, max_wait_ms: int) -> int:
        """Take the next send slot: returns the milliseconds to wait for it (≤ max_wait_ms), or -wait when
        the next slot is further away than that (nothing is reserved; come back later)."""
        for _ in range(MAX_RACES):
            current = self._next(key)
            slot = max(now_ms, current or 0)
            if slot - now_ms > max_wait_ms:
                return -(slot - now_ms)
            condition = "attribute_not_exists(next_at)" if current is None else "next_at = :old"
            vals = {":new": {"N": str(slot + interval_ms)}}
            if current is not None:
                vals[":old"] = {"N": str(current)}
            try:
                aws.dynamodb().update_item(
                    TableName=self.table,
                    Key=self._key(key),
                    UpdateExpression="SET next_at = :new",
                    ConditionExpression=condition,
                    ExpressionAttributeValues=vals,
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                    continue  # another dialer took this slot: read again
                raise
            return slot - now_ms
        return -interval_ms  # heavy contention: back off one interval

    def hold_until(self, key: str, until_ms: int) -> None:
        """No call before `until_ms` (a rate-limit answer); never moves the next slot earlier."""
        try:
            aws.dynamodb().update_item(
                TableName=self.table,
                Key=self._key(key),
                UpdateExpression="SET next_at = :u",
                ConditionExpression="attribute_not_exists(next_at) OR next_at < :u",
                ExpressionAttributeValues={":u": {"N": str(until_ms)}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
