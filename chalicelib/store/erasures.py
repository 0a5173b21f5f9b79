"""Erasure requests, one item each per tenant: what was asked and how far the walk got.

The item never holds the full number: a masked form for people, and the by_number_keys index's key
(a hash) only while the walk needs it.
"""

from __future__ import annotations

from .. import aws, clock
from ..domain.erasures import Erasure
from ..errors import NotFound
from ..resources import ERASURES, table_name
from ..settings import Settings
from .dynamo import Wire, av, from_item, put_new, storable_key, update_if, values

MAX_SORT_KEY_BYTES = 1024  # DynamoDB refuses a longer sort key with an error: such an id names nothing


class ErasureStore:
    def __init__(self, settings: Settings) -> None:
        self._table = table_name(settings, ERASURES)

    def _key(self, tenant_id: str, erasure_id: str) -> Wire:
        return {"tenant_id": av(tenant_id), "erasure_id": av(erasure_id)}

    def create(self, erasure: Erasure) -> None:
        put_new(self._table, erasure.to_item(), "erasure_id", f"erasure {erasure.erasure_id}")

    def find(self, tenant_id: str, erasure_id: str) -> Erasure | None:
        if not storable_key(erasure_id) or len(erasure_id.encode("utf-8", "surrogatepass")) > MAX_SORT_KEY_BYTES:
            return None
        item = (
            aws.dynamodb()
            .get_item(TableName=self._table, Key=self._key(tenant_id, erasure_id), ConsistentRead=True)
            .get("Item")
        )
        return Erasure.model_validate(from_item(item)) if item else None

    def get(self, tenant_id: str, erasure_id: str) -> Erasure:
        """Another tenant's erasure is simply not found (its key includes the tenant)."""
        erasure = self.find(tenant_id, erasure_id)
        if erasure is None:
            raise NotFound(f"erasure {erasure_id} not found", code="erasure_not_found")
        return erasure

    def progress(
        self, tenant_id: str, erasure_id: str, *, erased: int, canceled: int, live: int, batches: set[str]
    ) -> None:
        """Count what one step did, and note the batches whose files hold the number too (their executions
        were erased). An execution is counted by the one step whose conditional erase succeeded."""
        update = "SET updated_at = :now, live_calls = :live ADD executions_erased :e, calls_canceled :c"
        vals = values(now=clock.now_iso(), live=live, e=erased, c=canceled)
        if batches:
            update += ", batches :b"
            vals[":b"] = {"SS": sorted(batches)}
        aws.dynamodb().update_item(
            TableName=self._table,
            Key=self._key(tenant_id, erasure_id),
            UpdateExpression=update,
            ConditionExpression="attribute_exists(erasure_id)",
            ExpressionAttributeValues=vals,
        )

    def finish(self, tenant_id: str, erasure_id: str) -> bool:
        """Done: the hash of the number is dropped too. True for the one step that finished it."""
        now = clock.now_iso()
        return update_if(
            self._table,
            self._key(tenant_id, erasure_id),
            {"status": "completed", "completed_at": now, "updated_at": now, "live_calls": 0},
            "#st = :running",
            {"#st": "status"},
            values(running="running"),
            remove=("number_key",),
        )
