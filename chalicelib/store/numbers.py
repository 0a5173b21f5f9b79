"""A tenant's numbers: the do-not-call list and each number's attempt history, in ONE item per number.

Why one item: the dialer's claim transaction must check both "not suppressed" and "under the contact
limit" atomically, and each costs nothing extra only if they are the same element. So the claim adds
one Update to its transaction (`claim_element`): conditional on the number not being suppressed (or
its entry expired) and, when a limit applies, on the N-th most recent attempt being out of the window;
it prepends this attempt's time to the history. On a refusal, DynamoDB returns the item as it was
(ReturnValuesOnConditionCheckFailure), so the dialer learns why, and until when, without a read.

Item: `tenant_id`, `number` (E.164); when suppressed: `suppressed_tenant` (= tenant_id, the sparse
`suppressed` index's key), `reason`, `source`, `added_by`, `suppressed_at`, `suppressed_until`,
`execution_id`; `attempts`: claim times (epoch seconds) newest first; `ttl`: an item not suppressed
for good is dropped a year after its last use (its history is then out of every window).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from .. import aws, clock
from ..domain.contact_limits import MAX_DAYS, ContactLimit, NumberState
from ..domain.suppressions import Suppression, SuppressionSource
from ..resources import NUMBERS, table_name
from ..settings import Settings
from .cursors import Cursors, KeyShape, cursor_key
from .dynamo import Fields, Request, Wire, av, condition_failed, from_item, storable_key, values

KEEP = timedelta(days=MAX_DAYS + 1)  # longer than any window: the history is useless after it
PAGE_KEY = KeyShape("suppressions", {"suppressed_tenant": "S", "number": "S", "tenant_id": "S"})
BATCH_GET = 100  # BatchGetItem's most keys per request
ENTRY = ("suppressed_tenant", "reason", "source", "added_by", "suppressed_at", "suppressed_until", "execution_id")
ACTIVE = "(attribute_not_exists(suppressed_until) OR suppressed_until > :now)"
NOT_SUPPRESSED = "(attribute_not_exists(suppressed_tenant) OR suppressed_until <= :now)"


@dataclass(frozen=True)
class Blocked:
    """Why a claim was refused on the number: suppressed, or over its limit until `frees_at`."""

    suppressed: bool
    frees_at: datetime | None = None


def _entry(item: Wire) -> Suppression:
    data = from_item(item)
    return Suppression(
        number=data["number"],
        reason=data.get("reason"),
        source=data["source"],
        added_by=data.get("added_by"),
        created_at=data["suppressed_at"],
        expires_at=data.get("suppressed_until"),
        execution_id=data.get("execution_id"),
    )


class NumberStore:
    def __init__(self, settings: Settings) -> None:
        self.table = table_name(settings, NUMBERS)
        self._cursors = Cursors(cursor_key(settings))

    @staticmethod
    def key(tenant_id: str, number: str) -> Wire:
        return {"tenant_id": av(tenant_id), "number": av(number)}

    # --- the do-not-call list ---------------------------------------------------------------

    def suppress(
        self,
        tenant_id: str,
        number: str,
        source: SuppressionSource,
        *,
        reason: str | None = None,
        added_by: str | None = None,
        expires_at: datetime | None = None,
        execution_id: str | None = None,
    ) -> None:
        """Add (or renew) an entry; the number's attempt history is kept. Idempotent."""
        fields: Fields = {
            "suppressed_tenant": tenant_id,
            "source": source.value,
            "suppressed_at": clock.now_iso(),
            "reason": reason,
            "added_by": added_by,
            "suppressed_until": clock.iso(expires_at) if expires_at else None,
            "execution_id": execution_id,
            "ttl": int((expires_at + KEEP).timestamp()) if expires_at else None,
        }
        kept = {k: v for k, v in fields.items() if v is not None}
        dropped = [k for k, v in fields.items() if v is None]
        names = {f"#f{i}": k for i, k in enumerate(kept)}
        names.update({f"#r{i}": k for i, k in enumerate(dropped)})
        update = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(kept)))
        if dropped:
            update += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(dropped)))
        aws.dynamodb().update_item(
            TableName=self.table,
            Key=self.key(tenant_id, number),
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":v{i}": av(v) for i, v in enumerate(kept.values())},
        )

    def get(self, tenant_id: str, number: str) -> Suppression | None:
        """The number's entry while it suppresses (None when absent or expired)."""
        if not storable_key(number):
            return None
        item = (
            aws.dynamodb()
            .get_item(TableName=self.table, Key=self.key(tenant_id, number), ConsistentRead=True)
            .get("Item")
        )
        if not item or "suppressed_tenant" not in item:
            return None
        entry = _entry(item)
        return entry if entry.active(clock.now_iso()) else None

    def unsuppress(self, tenant_id: str, number: str) -> bool:
        """Remove the entry (the attempt history stays); False when there was none in force."""
        try:
            aws.dynamodb().update_item(
                TableName=self.table,
                Key=self.key(tenant_id, number),
                UpdateExpression="SET #ttl = :ttl REMOVE " + ", ".join(f"#e{i}" for i in range(len(ENTRY))),
                ConditionExpression="attribute_exists(suppressed_tenant) AND " + ACTIVE,
                ExpressionAttributeNames={"#ttl": "ttl", **{f"#e{i}": name for i, name in enumerate(ENTRY)}},
                ExpressionAttributeValues=values(now=clock.now_iso(), ttl=int((clock.now() + KEEP).timestamp())),
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def page(
        self, tenant_id: str, *, source: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Suppression], str | None]:
        """Entries in force, in number order; with a source filter, pages are filled up to `limit`."""
        scope = {"suppressed_tenant": tenant_id, "source": source or ""}
        start = self._cursors.decode(PAGE_KEY, scope, cursor)
        found: list[Suppression] = []
        condition = ACTIVE + (" AND #src = :src" if source else "")
        bound = values(t=tenant_id, now=clock.now_iso(), **({"src": source} if source else {}))
        while True:
            request: Request = {
                "TableName": self.table,
                "IndexName": "suppressed",
                "KeyConditionExpression": "suppressed_tenant = :t",
                "FilterExpression": condition,
                "ExpressionAttributeValues": bound,
                "Limit": limit - len(found),
            }
            if source:
                request["ExpressionAttributeNames"] = {"#src": "source"}
            if start:
                request["ExclusiveStartKey"] = start
            answer = aws.dynamodb().query(**request)
            found.extend(_entry(item) for item in answer.get("Items", []))
            start = answer.get("LastEvaluatedKey")
            if not start or len(found) >= limit:
                return found, self._cursors.encode(PAGE_KEY, scope, start)

    def has_any(self, tenant_id: str) -> bool:
        """Whether the tenant has ever suppressed a number (expired entries count): ingest skips its lookups if not."""
        answer = aws.dynamodb().query(
            TableName=self.table,
            IndexName="suppressed",
            KeyConditionExpression="suppressed_tenant = :t",
            ExpressionAttributeValues=values(t=tenant_id),
            Limit=1,
        )
        return bool(answer.get("Items"))

    def suppressed_among(self, tenant_id: str, numbers: Iterable[str]) -> set[str]:
        """Which of these numbers are suppressed now (BatchGetItem, 100 a request)."""
        now = clock.now()
        return {
            n for n, state in self.states_among(tenant_id, numbers, history=False).items() if state.suppressed_at(now)
        }

    def states_among(self, tenant_id: str, numbers: Iterable[str], *, history: bool) -> dict[str, NumberState]:
        """The items of those numbers that have one (BatchGetItem, 100 a request): their do-not-call entry,
        and with `history` their claim times too (the plan asks for them only when a contact limit applies)."""
        keys = [self.key(tenant_id, n) for n in dict.fromkeys(numbers)]
        projection = "#n, suppressed_tenant, suppressed_until" + (", attempts" if history else "")
        found: dict[str, NumberState] = {}
        for i in range(0, len(keys), BATCH_GET):
            pending: Request = {
                self.table: {
                    "Keys": keys[i : i + BATCH_GET],
                    "ProjectionExpression": projection,
                    "ExpressionAttributeNames": {"#n": "number"},
                }
            }
            while pending:
                answer = aws.dynamodb().batch_get_item(RequestItems=pending)
                for item in answer.get("Responses", {}).get(self.table, []):
                    found[item["number"]["S"]] = NumberState(
                        suppressed="suppressed_tenant" in item,
                        suppressed_until=item.get("suppressed_until", {}).get("S"),
                        attempts=tuple(int(t["N"]) for t in item.get("attempts", {}).get("L", [])),
                    )
                pending = answer.get("UnprocessedKeys") or {}
        return found

    # --- the claim ---------------------------------------------------------------------------

    def claim_element(self, tenant_id: str, number: str, now: datetime, limit: ContactLimit | None) -> Request:
        """The claim transaction's element for the number: not suppressed, under the limit; records the attempt."""
        condition = NOT_SUPPRESSED
        vals = values(now=clock.iso(now), t=[int(now.timestamp())], empty=[], ttl=int((now + KEEP).timestamp()))
        if limit is not None:
            slot = f"attempts[{limit.attempts - 1}]"
            condition += f" AND (attribute_not_exists({slot}) OR {slot} <= :ws)"
            vals.update(values(ws=limit.window_start(now)))
        return {
            "Update": {
                "TableName": self.table,
                "Key": self.key(tenant_id, number),
                "UpdateExpression": "SET attempts = list_append(:t, if_not_exists(attempts, :empty)), #ttl = :ttl",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": vals,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    @staticmethod
    def blocked(old_item: Wire | None, now: datetime, limit: ContactLimit | None) -> Blocked:
        """Why `claim_element` was refused, from the item DynamoDB returned with the refusal."""
        data = from_item(old_item or {})
        until = data.get("suppressed_until")
        if "suppressed_tenant" in data and (until is None or until > clock.iso(now)):
            return Blocked(suppressed=True)
        history = [int(t) for t in data.get("attempts") or []]
        return Blocked(suppressed=False, frees_at=limit.frees_at(history) if limit else None)

    def history(self, tenant_id: str, number: str) -> list[int]:
        """The number's claim times, newest first (tests and the bench)."""
        item = (
            aws.dynamodb()
            .get_item(TableName=self.table, Key=self.key(tenant_id, number), ConsistentRead=True)
            .get("Item")
        )
        return [int(t) for t in from_item(item).get("attempts", [])] if item else []
