"""Providers' callbacks already received, per signing account, so a replay is refused on every call it signs.

For signatures that do not cover the callback URL (Standard Webhooks): the same webhook-id re-posted
to another execution's URL must be refused too, so the key is the signer's, not the execution's.
Each receipt expires (TTL) long after a signature's freshness window, when the replay is stale anyway.
"""

from __future__ import annotations

from .. import aws, clock
from ..resources import CALLBACK_RECEIPTS, table_name
from ..settings import Settings
from .dynamo import av

KEEP_SECONDS = 24 * 3600  # signatures are fresh for 5 minutes; DynamoDB's TTL deletes within days


class CallbackReceiptStore:
    def __init__(self, settings: Settings) -> None:
        self._table = table_name(settings, CALLBACK_RECEIPTS)

    @staticmethod
    def _key(signer: str, replay_key: str) -> dict[str, dict[str, str]]:
        return {"receipt_key": av(f"{signer}#{replay_key}")}

    def seen(self, signer: str, replay_key: str) -> bool:
        item = (
            aws.dynamodb()
            .get_item(TableName=self._table, Key=self._key(signer, replay_key), ConsistentRead=True)
            .get("Item")
        )
        return item is not None  # past its expiry too: such a replay's signature is stale anyway

    def remember(self, signer: str, replay_key: str) -> None:
        expires_at = int(clock.now().timestamp()) + KEEP_SECONDS
        aws.dynamodb().put_item(
            TableName=self._table,
            Item={**self._key(signer, replay_key), "expires_at": {"N": str(expires_at)}},
        )
