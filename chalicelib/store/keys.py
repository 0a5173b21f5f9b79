"""API keys: stored as SHA-256 hashes, each bound to one tenant."""

from __future__ import annotations

from .. import aws, clock
from ..resources import API_KEYS, table_name
from ..settings import Settings
from .dynamo import to_item


class KeyStore:
    def __init__(self, settings: Settings) -> None:
        self._table = table_name(settings, API_KEYS)

    def put(self, key_hash: str, tenant_id: str, label: str) -> None:
        aws.dynamodb().put_item(
            TableName=self._table,
            Item=to_item({"key_hash": key_hash, "tenant_id": tenant_id, "label": label, "created_at": clock.now_iso()}),
            ConditionExpression="attribute_not_exists(key_hash)",
        )

    def tenant_for(self, key_hash: str) -> str | None:
        owner = self.owner(key_hash)
        return owner[0] if owner else None

    def owner(self, key_hash: str) -> tuple[str, str] | None:
        """(tenant id, label) of a key that is not revoked."""
        item = aws.dynamodb().get_item(TableName=self._table, Key={"key_hash": {"S": key_hash}}).get("Item")
        if not item or item.get("revoked", {}).get("BOOL"):
            return None
        return item["tenant_id"]["S"], item.get("label", {}).get("S", "")

    def label_for(self, key_hash: str) -> str | None:
        """The key's label (who did something, for the records that say so); None for an unknown key."""
        item = aws.dynamodb().get_item(TableName=self._table, Key={"key_hash": {"S": key_hash}}).get("Item")
        return item.get("label", {}).get("S") if item else None
