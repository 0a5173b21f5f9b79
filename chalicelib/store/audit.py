"""The audit log: append-only, one item per change an API key made, per tenant, in time order.

Only `append` and `page` exist: nothing in the service updates or deletes an entry (and no
function's IAM role may), so the log is what happened, as it happened.
"""

from __future__ import annotations

from .. import aws
from ..domain.audit import AuditEntry
from ..resources import AUDIT, table_name
from ..settings import Settings
from .cursors import Cursors, KeyShape, cursor_key
from .dynamo import Request, from_item, put_new, values

PAGE_KEY = KeyShape("audit", {"tenant_id": "S", "entry_key": "S"})
TARGET_PAGE_KEY = KeyShape("audit_target", {"tenant_id": "S", "entry_key": "S", "target_key": "S"})


class AuditStore:
    def __init__(self, settings: Settings) -> None:
        self._table = table_name(settings, AUDIT)
        self._cursors = Cursors(cursor_key(settings))

    def append(self, entry: AuditEntry) -> None:
        """One new entry; its key is unique, so it never replaces one."""
        item = {**entry.to_item(), "target_key": f"{entry.tenant_id}#{entry.target}"}
        put_new(self._table, item, "entry_key", "audit entry")

    def page(
        self, tenant_id: str, *, target: str | None, limit: int, cursor: str | None
    ) -> tuple[list[AuditEntry], str | None]:
        """Newest first; with `target`, only that target's entries (from the by_target index)."""
        if target:
            shape, scope = TARGET_PAGE_KEY, {"tenant_id": tenant_id, "target_key": f"{tenant_id}#{target}"}
            kwargs: Request = {
                "IndexName": "by_target",
                "KeyConditionExpression": "target_key = :k",
                "ExpressionAttributeValues": values(k=scope["target_key"]),
            }
        else:
            shape, scope = PAGE_KEY, {"tenant_id": tenant_id}
            kwargs = {"KeyConditionExpression": "tenant_id = :t", "ExpressionAttributeValues": values(t=tenant_id)}
        start = self._cursors.decode(shape, scope, cursor)
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = aws.dynamodb().query(TableName=self._table, ScanIndexForward=False, Limit=limit, **kwargs)
        rows = [AuditEntry.model_validate(from_item(item)) for item in page.get("Items", [])]
        return rows, self._cursors.encode(shape, scope, page.get("LastEvaluatedKey"))
