"""Tenants: the webhook signing secrets (current, and the previous one during a rotation) and disabled endpoints."""

from __future__ import annotations

from botocore.exceptions import ClientError

from .. import aws
from ..domain.records import Tenant
from ..domain.webhooks import new_secret
from ..resources import TENANTS, table_name
from ..settings import Settings
from .dynamo import Wire, av, condition_failed, from_item, values


class TenantStore:
    def __init__(self, settings: Settings) -> None:
        self._table = table_name(settings, TENANTS)

    def _key(self, tenant_id: str) -> Wire:
        return {"tenant_id": av(tenant_id)}

    def find(self, tenant_id: str) -> Tenant | None:
        item = aws.dynamodb().get_item(TableName=self._table, Key=self._key(tenant_id), ConsistentRead=True).get("Item")
        return Tenant.model_validate(from_item(item)) if item else None

    def with_secret(self, tenant_id: str, now: str) -> Tenant:
        """The tenant with its signing secrets, the first one made on first use."""
        tenant = self.find(tenant_id)
        if tenant and tenant.webhook_secret:
            return tenant
        return self.set_secret_if_missing(tenant_id, new_secret(), now)

    def set_secret_if_missing(self, tenant_id: str, secret: str, now: str) -> Tenant:
        """The tenant with a secret: this one, or the one a concurrent first use stored first."""
        try:
            result = aws.dynamodb().update_item(
                TableName=self._table,
                Key=self._key(tenant_id),
                UpdateExpression="SET webhook_secret = :s, webhook_secret_created_at = :now",
                ConditionExpression="attribute_not_exists(webhook_secret)",
                ExpressionAttributeValues=values(s=secret, now=now),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            tenant = self.find(tenant_id)
            assert tenant is not None
            return tenant
        return Tenant.model_validate(from_item(result["Attributes"]))

    def rotate_secret(self, tenant_id: str, secret: str, now: str, previous_until: str) -> Tenant:
        """New current secret; the old one stays valid until `previous_until` (one write, so rotations never race)."""
        result = aws.dynamodb().update_item(
            TableName=self._table,
            Key=self._key(tenant_id),
            UpdateExpression=(
                "SET previous_webhook_secret = webhook_secret, previous_secret_expires_at = :until, "
                "webhook_secret = :s, webhook_secret_created_at = :now"
            ),
            ConditionExpression="attribute_exists(webhook_secret)",
            ExpressionAttributeValues=values(s=secret, now=now, until=previous_until),
            ReturnValues="ALL_NEW",
        )
        return Tenant.model_validate(from_item(result["Attributes"]))

    def disable_endpoint(self, tenant_id: str, key: str) -> None:
        aws.dynamodb().update_item(
            TableName=self._table,
            Key=self._key(tenant_id),
            UpdateExpression="ADD disabled_endpoints :k",
            ExpressionAttributeValues={":k": {"SS": [key]}},
        )
