"""Webhook deliveries, per batch: the attempt log, and one state item per event that sequences its attempts.

The state item (`event#<event id>`) is what makes an at-least-once queue send each attempt
once: an attempt is claimed with a conditional write (a lease, in case the worker dies),
settled with another, and a message for an attempt already claimed or settled is a duplicate.
Log rows sort before state items (their keys start with a year), so the log is one key range.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .. import aws
from ..domain.timeline import Entry
from ..resources import WEBHOOK_DELIVERIES, table_name
from ..settings import Settings
from .cursors import Cursors, InvalidCursor, KeyShape, cursor_key
from .dynamo import Fields, Request, Wire, av, condition_failed, from_item, to_item, update_if, values

STATE_PREFIX = "event#"
SENDING = "sending"
PENDING = "pending"  # an attempt failed and the next one is scheduled
DEAD = "dead"
PAGE_KEY = KeyShape("webhook_deliveries", {"batch_id": "S", "delivery_key": "S"})


class DeliveryStore:
    def __init__(self, settings: Settings) -> None:
        self._table = table_name(settings, WEBHOOK_DELIVERIES)
        self._cursors = Cursors(cursor_key(settings))

    def _state_key(self, batch_id: str, event_id: str) -> Wire:
        return {"batch_id": av(batch_id), "delivery_key": av(STATE_PREFIX + event_id)}

    def claim(
        self, batch_id: str, event_id: str, attempt: int, *, now: float, lease_until: float, replay: bool = False
    ) -> tuple[bool, Fields | None]:
        """Take attempt `attempt` of an event; (False, the state as it was) when it is not this message's to make.

        Claimable: a new event; a pending one whose last attempt was earlier; an attempt whose worker
        died (lease run out); a dead event that an operator replays from the dead-letter queue.
        """
        condition = (
            "attribute_not_exists(#st) OR (#st = :pending AND attempts < :n)"
            " OR (#st = :sending AND attempts <= :n AND lease_until < :now)"
        )
        vals = values(pending=PENDING, sending=SENDING, n=attempt, now=now, lease=lease_until)
        if replay:
            condition += " OR #st = :dead"
            vals.update(values(dead=DEAD))
        try:
            aws.dynamodb().update_item(
                TableName=self._table,
                Key=self._state_key(batch_id, event_id),
                UpdateExpression="SET #st = :sending, attempts = :n, lease_until = :lease",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#st": "state"},
                ExpressionAttributeValues=vals,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            old: Any = exc.response.get("Item")
            return False, from_item(old) if old else None
        return True, None

    def settle(
        self,
        batch_id: str,
        event_id: str,
        attempt: int,
        state: str,
        *,
        updated_at: str,
        next_try_at: str | None = None,
        record: Entry | None = None,
    ) -> bool:
        """Record how attempt `attempt` ended; False when a later attempt already took over (do nothing more).

        `record`: the attempt's summary, appended to the event's `history` in the same write (a call's
        timeline shows it; at most webhook_max_attempts of them).
        """
        fields = {"state": state, "updated_at": updated_at, "next_try_at": next_try_at}
        return update_if(
            self._table,
            self._state_key(batch_id, event_id),
            fields,
            "attempts = :n",
            condition_values={":n": av(attempt)},
            remove=("lease_until",),
            appends={"history": [record]} if record else None,
        )

    def state(self, batch_id: str, event_id: str) -> Fields | None:
        item = (
            aws.dynamodb()
            .get_item(TableName=self._table, Key=self._state_key(batch_id, event_id), ConsistentRead=True)
            .get("Item")
        )
        return from_item(item) if item else None

    def log(self, row: Fields) -> None:
        """One attempt; the key is unique per attempt made, so a repeated attempt adds a row rather than hiding one."""
        key = f"{row['attempted_at']}#{row['event_id']}#{row['attempt']:02d}"
        aws.dynamodb().put_item(TableName=self._table, Item=to_item({**row, "delivery_key": key}))

    def page(self, batch_id: str, *, limit: int, cursor: str | None) -> tuple[list[Fields], str | None]:
        """The attempt log of a batch, oldest first."""
        kwargs: Request = {
            "TableName": self._table,
            "KeyConditionExpression": "batch_id = :b AND delivery_key < :state",
            "ExpressionAttributeValues": values(b=batch_id, state=STATE_PREFIX),
            "Limit": limit,
        }
        scope = {"batch_id": batch_id}
        start = self._cursors.decode(PAGE_KEY, scope, cursor)
        if start:
            if start["delivery_key"]["S"] >= STATE_PREFIX:  # outside the key condition: DynamoDB would refuse it
                raise InvalidCursor()
            kwargs["ExclusiveStartKey"] = start
        page = aws.dynamodb().query(**kwargs)
        rows = [from_item(item) for item in page.get("Items", [])]
        return rows, self._cursors.encode(PAGE_KEY, scope, page.get("LastEvaluatedKey"))

    def delete_some(self, batch_id: str, limit: int) -> bool:
        """Delete up to `limit` of a batch's log rows and event states (a purge); True when some may remain."""
        page = aws.dynamodb().query(
            TableName=self._table,
            KeyConditionExpression="batch_id = :b",
            ExpressionAttributeValues=values(b=batch_id),
            ProjectionExpression="batch_id, delivery_key",
            Limit=limit,
        )
        items = page.get("Items", [])
        for start in range(0, len(items), 25):
            requests: Any = {self._table: [{"DeleteRequest": {"Key": key}} for key in items[start : start + 25]]}
            while requests:
                requests = aws.dynamodb().batch_write_item(RequestItems=requests).get("UnprocessedItems") or None
        return "LastEvaluatedKey" in page
