"""Batches: one item each, counters kept with atomic ADD so reads stay O(1)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .. import aws, clock
from ..domain.batch_status import ACTIVE, BatchStatus
from ..domain.extraction import TALLY_PREFIX
from ..domain.records import Batch
from ..errors import Conflict, Contended, NotFound
from ..resources import BATCHES, LEASES, table_name
from ..settings import Settings
from .dynamo import (
    BATCH_GET_KEYS,
    Fields,
    Request,
    Wire,
    av,
    cancellation_codes,
    condition_failed,
    from_item,
    put_new,
    query_all,
    query_keys_all,
    set_clause,
    storable_key,
    update_if,
    values,
)
from .execution_item import BATCH_SHARD, CO_COUNTED


@dataclass(frozen=True)
class Ended:
    """An attempt that ended: what it adds to its batch's spend and call-history counters."""

    cost: float
    talk_seconds: float

    @classmethod
    def of(cls, fields: Fields) -> Ended:
        return cls(_number(fields.get("total_cost")), _number(fields.get("conversation_duration")))

    def counters(self) -> tuple[tuple[str, float], ...]:
        answered = 1 if self.talk_seconds > 0 else 0
        return (
            ("spend", self.cost),
            ("talk_seconds", self.talk_seconds),
            ("answered_calls", answered),
            ("ended_calls", 1),
        )


def _number(value: Any) -> float:
    """A reported cost or duration: a non-negative finite number, else nothing (0)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) and number > 0 else 0.0


def _counter_conditions(names: dict[str, str], vals: Wire, must_run: bool, live_cap: int | None) -> str:
    """counter_update's condition: the batch running (a stop or pause that lands first fails the whole
    transaction); for a claim (`live_cap`), under its own live-call cap and within its budget."""
    conditions = []
    if must_run:
        names["#st"] = "status"
        vals[":running"] = av(BatchStatus.RUNNING.value)
        conditions.append("#st = :running")
    if live_cap is not None:
        vals[":cap"] = av(live_cap)
        conditions.append("(attribute_not_exists(live) OR live < :cap)")
        conditions.append("(attribute_not_exists(max_spend) OR attribute_not_exists(spend) OR spend < max_spend)")
    return " AND ".join(conditions)


def _named_adds(names: dict[str, str], vals: Wire, moves: dict[str, int], tallies: dict[str, int]) -> list[str]:
    """The ADDs of execution_status moves and extraction tallies, their names and values put in `names`, `vals`."""
    adds = []
    for i, (status, delta) in enumerate(sorted(moves.items())):
        if delta:
            names["#es"] = "execution_status"  # only when used: DynamoDB refuses an unused name
            names[f"#s{i}"] = status
            vals[f":d{i}"] = av(delta)
            adds.append(f"#es.#s{i} :d{i}")
    for i, (name, delta) in enumerate(sorted(tallies.items())):
        if delta:
            names[f"#x{i}"] = name
            vals[f":x{i}"] = av(delta)
            adds.append(f"#x{i} :x{i}")
    return adds


# A large batch's per-call counters live in COUNTER_SHARDS items beside its own (`<batch_id>#c<n>`, n = 1..N), summed
# on read: one item takes ~1,000 write units/s, and a claim and an outcome on the batch item cost ~4 (~250 calls/s).
# Each shard holds a copy of the batch's status (`run_status`, written with the batch item in one transaction by
# every transition), so a claim checks that the batch runs on its own shard: the batch item takes no write per call,
# only its status changes, and a pause or stop that commits refuses every later claim. A batch decides at its
# start (`counter_shards`, never changed after): one with a live-call cap or a budget then, or under
# SHARD_MIN_CONTACTS valid contacts, keeps every counter on its item, as every batch did before.
COUNTER_SHARDS = 8
SHARD_MIN_CONTACTS = 1000
SHARD_FIELD = BATCH_SHARD  # on the execution: the counter shard its claim counted in (none: the batch item)
RUN_STATUS = "run_status"  # on a shard: the batch's status, copied by each transition (not `status`: not a batch)
TRANSITION_TRIES = 5  # a sharded batch's transition races claims on its shards (TransactionConflict): tried again
STATUS_PREFIX = "es#"  # a shard's execution_status counters, top level (`es#<status>`)
SUMMED = ("finished", "dispatched", "unreached", "live", "spend", "talk_seconds", "answered_calls", "ended_calls")


def counter_key(batch_id: str, shard: int | None) -> str:
    """The key of a batch's counter shard (None or 0: the batch item itself)."""
    return f"{batch_id}#c{shard}" if shard else batch_id


def shards_for(batch: Batch) -> int:
    """How many counter shards a batch starting now gets (0: its counters stay on its item)."""
    if batch.counter_shards or batch.max_concurrent_calls or batch.max_spend is not None:
        return batch.counter_shards
    return COUNTER_SHARDS if batch.valid_contacts >= SHARD_MIN_CONTACTS else 0


def pick_shard(execution_id: str, shards: int) -> int | None:
    """The counter shard a claim counts in: fixed per execution, spread evenly (None when the batch has none)."""
    return int(hashlib.sha256(execution_id.encode()).hexdigest()[:8], 16) % shards + 1 if shards else None


def execution_shard(extra: Fields | None) -> int | None:
    """The counter shard recorded on an execution (its model_extra) by its claim; None for the batch item."""
    return int((extra or {}).get(SHARD_FIELD) or 0) or None


def _add_shard(fields: Fields, shard: Fields) -> None:
    """Add one counter shard's counts into a batch item's fields (read, never written back)."""
    for name in SUMMED:
        if shard.get(name):
            fields[name] = fields.get(name, 0) + shard[name]
    statuses = dict(fields.get("execution_status") or {})
    for name, n in shard.items():
        if name.startswith(STATUS_PREFIX):
            status = name.removeprefix(STATUS_PREFIX)
            statuses[status] = statuses.get(status, 0) + n
        elif name.startswith(TALLY_PREFIX):
            fields[name] = fields.get(name, 0) + n
    fields["execution_status"] = statuses


# A small batch without its own live-call cap or budget keeps its per-call counters on its agent's live-call
# counter shards (store/leases.py) instead, beside the agent's `live`, as top-level attributes named by a short tag
# of the batch (`co_tag`) and a counter code (`_CO_CODES`): a claim and an outcome already write that item for the
# agent's slot, so the batch's counters cost no transaction element of their own (a claim 3 elements, an outcome
# 2). The batch records the agent key at its start (CO_FIELD, never changed after) and each claimed execution that
# it counted there (CO_COUNTED, with its LIVE_SHARD), so its end, its retry and its release count in the same
# place. A halted batch (paused, stopped, failed) has its marker (`<tag>h`) on every shard key of its agent
# (written with the transition, in one transaction): a claim or a retry requires it absent, so one that commits
# after a pause or stop is refused; a resume removes it. An agent's shards carry at most MAX_CO_BATCHES batches'
# counters (item size is money: past 1 KB every write costs double), counted at a batch's start; the others count
# on their own item or counter shards as before. Once an ended batch is settled and every attempt final, its
# counters are folded into its item and removed from the shards (fold_co).
CO_FIELD = "co_key"  # on the batch: the agent key whose live-call shards hold its per-call counters
CO_FOLDED = "co_folded"  # on the batch: when its counters were moved back onto its item (fold_co)
_FOLDABLE = {BatchStatus.COMPLETED.value, BatchStatus.STOPPED.value, BatchStatus.FAILED.value}  # fold_co's statuses
MAX_CO_BATCHES = 3
CO_SHARDS = 8  # store/leases.py LIVE_SHARDS: every shard key an agent's claims may use (its limit may change)
CO_LEASE_ID = "live"  # store/leases.py COUNTER: the lease id of an agent's live-call counter items
HALTED = "h"
_CO_CODES = {
    "live": "l",
    "finished": "f",
    "spend": "p",
    "talk_seconds": "t",
    "answered_calls": "a",
    "ended_calls": "e",
    "dispatched": "d",
    "unreached": "u",
}
_CO_STATUS = {
    "queued": "q",
    "rescheduled": "r",
    "initiated": "i",
    "ringing": "g",
    "in-progress": "ip",
    "completed": "c",
    "no-answer": "n",
    "busy": "b",
    "failed": "fa",
    "error": "er",
    "canceled": "x",
    "suppressed": "su",
    "contact_limited": "cl",
}
# A batch whose counters are partly elsewhere (its caller read their sum): counter shards, or its agent's shards.
_SUMMED_ELSEWHERE = f"attribute_exists(counter_shards) OR attribute_exists({CO_FIELD})"
_CO_FIELDS = {code: name for name, code in _CO_CODES.items()}
_CO_STATUSES = {code: status for status, code in _CO_STATUS.items()}


def co_tag(batch_id: str) -> str:
    """The 8-character tag that names a batch's counters on its agent's shards."""
    return hashlib.sha256(batch_id.encode()).hexdigest()[:8]


def co_name(tag: str, name: str) -> str:
    """The attribute name of counter `name` (a SUMMED name, `es#<status>` or `xb#...`) on an agent shard."""
    if name in _CO_CODES:
        return tag + _CO_CODES[name]
    if name.startswith(STATUS_PREFIX):
        status = name.removeprefix(STATUS_PREFIX)
        return tag + "s" + _CO_STATUS.get(status, "#" + status)
    if name.startswith(TALLY_PREFIX):
        return tag + "x" + name.removeprefix(TALLY_PREFIX)
    raise ValueError(f"no co-located counter for {name}")


def co_counter(tag: str, attribute: str) -> str | None:
    """The counter name (as on a shard: SUMMED, `es#<status>`, `xb#...`) of an agent shard attribute of the batch
    tagged `tag`; None for another batch's, the agent's own, or the halted marker."""
    if not attribute.startswith(tag):
        return None
    code = attribute.removeprefix(tag)
    if code in _CO_FIELDS:
        return _CO_FIELDS[code]
    if code.startswith("s#"):
        return STATUS_PREFIX + code[2:]
    if code.startswith("s") and code[1:] in _CO_STATUSES:
        return STATUS_PREFIX + _CO_STATUSES[code[1:]]
    if code.startswith("x"):
        return TALLY_PREFIX + code[1:]
    return None


def live_shard_key(agent: str, shard: int) -> str:
    """The partition key of an agent's live-call shard (store/leases.py shard_key)."""
    return agent if shard == 0 else f"{agent}#live{shard}"


def co_place(batch_id: str, extra: Fields | None, tenant_id: str, agent_id: str) -> tuple[str, str] | None:
    """Where an execution's counters are kept when its claim counted them on its agent's shard: (the shard's
    partition key, the batch's tag); None when they are on the batch's item or counter shard."""
    shard = co_shard(extra)
    if shard is None:
        return None
    return live_shard_key(f"{tenant_id}#{agent_id}", shard), co_tag(batch_id)


def co_shard(extra: Fields | None) -> int | None:
    """The agent shard an execution's claim counted its batch's counters (and its slot) in: CO_COUNTED is that
    shard + 1 (a later claim of the same execution records its own); None when not counted on an agent shard."""
    counted = int((extra or {}).get(CO_COUNTED) or 0)
    return counted - 1 if counted else None


def _co_tags(item: Fields) -> set[str]:
    """The batches' tags whose counters or marker an agent shard item holds."""
    return {name[:8] for name in item if len(name) > 8 and all(c in "0123456789abcdef" for c in name[:8])}


def _add_co(fields: Fields, tag: str, shard: Fields) -> None:
    """Add one agent shard's counters of the batch tagged `tag` into its item's fields (read, never written)."""
    counts: Fields = {}
    for attribute, n in shard.items():
        name = co_counter(tag, attribute)
        if name is not None:
            counts[name] = n
    _add_shard(fields, counts)


_co_agents: dict[str, str] = {}  # batch id -> CO_FIELD, as read in this container (it never changes once set)
CO_REMEMBERED = 4096


def _remember_co(batch_id: str, agent: str) -> None:
    if len(_co_agents) >= CO_REMEMBERED:
        _co_agents.clear()
    _co_agents[batch_id] = agent


BY_AGENT = "by_agent_keys"  # an agent's batches, newest first (KEYS_ONLY: see resources.Index)


class BatchStore:
    def __init__(self, settings: Settings) -> None:
        self.table = table_name(settings, BATCHES)
        self.leases_table = table_name(settings, LEASES)

    def key(self, batch_id: str) -> Wire:
        return {"batch_id": av(batch_id)}

    def create(self, batch: Batch) -> None:
        """AlreadyExists when the batch id is taken (the inbox's retry of the same drop), Throttled on a throttle."""
        item = {**batch.to_item(), "agent_key": f"{batch.tenant_id}#{batch.agent_id}"}
        if batch.status in ACTIVE:
            item["active"] = "1"
        put_new(self.table, item, "batch_id", f"batch {batch.batch_id}")

    def find(self, batch_id: str, *, summed: bool = True) -> Batch | None:
        """`summed=False`: the batch item alone (its counter shards not added in), for a caller that reads no
        counter (one request, not two). A batch known to count on its agent's shards (read once in this
        container since its start: CO_FIELD never changes) is read with them in one BatchGetItem."""
        if not storable_key(batch_id):
            return None
        co = _co_agents.get(batch_id) if summed else None
        if co is not None:
            keys = [(self.table, self.key(batch_id)), *((self.leases_table, _co_key(co, s)) for s in range(CO_SHARDS))]
            found = self._get_all(keys)
            items = [f for f in found if "lease_id" not in f]
            return self._summed(items, [f for f in found if "lease_id" in f])[0] if items else None
        item = aws.dynamodb().get_item(TableName=self.table, Key=self.key(batch_id), ConsistentRead=True).get("Item")
        if not item:
            return None
        return self._summed([from_item(item)])[0] if summed else Batch.model_validate(from_item(item))

    def _summed(self, items: list[Fields], agent_items: list[Fields] | None = None) -> list[Batch]:
        """The batches with their counter shards and their agent's shards (co-located counters) added in: one
        consistent BatchGetItem (per 100 keys) for those that have any, so a read stays a fixed number of requests
        per batch. `agent_items`: the agent shards, read already with the batch item (find)."""
        keys = [
            (self.table, {"batch_id": av(counter_key(item["batch_id"], s))})
            for item in items
            for s in range(1, int(item.get("counter_shards") or 0) + 1)
        ]
        agents = sorted({str(item[CO_FIELD]) for item in items if item.get(CO_FIELD)})
        if agent_items is None:
            keys += [(self.leases_table, _co_key(agent, s)) for agent in agents for s in range(CO_SHARDS)]
        shards: dict[str, list[Fields]] = {}
        agent_shards: dict[str, list[Fields]] = {}
        for fields in [*self._get_all(keys), *(agent_items or [])]:
            if "lease_id" in fields:
                agent_shards.setdefault(str(fields["agent_key"]).split("#live", 1)[0], []).append(fields)
            else:
                shards.setdefault(fields["batch_id"].rsplit("#c", 1)[0], []).append(fields)
        items = [self._unfolded_or_again(item) for item in items]
        for item in items:
            for shard in shards.get(item["batch_id"], []):
                _add_shard(item, shard)
            if item.get(CO_FIELD):
                _remember_co(item["batch_id"], str(item[CO_FIELD]))
            if item.get(CO_FIELD) and not item.get(CO_FOLDED):  # folded: its counters are on its item
                tag = co_tag(item["batch_id"])
                for shard in agent_shards.get(str(item[CO_FIELD]), []):
                    _add_co(item, tag, shard)
        return [Batch.model_validate(item) for item in items]

    def _unfolded_or_again(self, item: Fields) -> Fields:
        """A batch item read with (or before) its agent's shards, as it must be summed: an ended batch's counters may
        have been folded from the shards into its item meanwhile (fold_co, one transaction, which a BatchGetItem or
        two requests can see half of), so its item is read again after the shards: folded by then, it alone holds
        the counts; not yet, and the shards read before held them all. A running batch is never folded."""
        if not item.get(CO_FIELD) or item.get(CO_FOLDED) or item.get("status") not in _FOLDABLE:
            return item
        again = aws.dynamodb().get_item(TableName=self.table, Key=self.key(item["batch_id"]), ConsistentRead=True)
        fresh = from_item(again.get("Item") or {})
        return fresh if fresh.get(CO_FOLDED) else item

    def _get_all(self, keys: list[tuple[str, Wire]]) -> list[Fields]:
        """The items at `keys` (table, key) that exist, read consistently, BATCH_GET_KEYS per request."""
        found: list[Fields] = []
        for start in range(0, len(keys), BATCH_GET_KEYS):
            chunk: Request = {}
            for table, key in keys[start : start + BATCH_GET_KEYS]:
                chunk.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
            request: Request | None = chunk
            while request:
                answer = aws.dynamodb().batch_get_item(RequestItems=request)
                for table_items in answer.get("Responses", {}).values():
                    found.extend(from_item(item) for item in table_items)
                request = answer.get("UnprocessedKeys") or None
        return found

    def co_room(self, agent: str) -> bool:
        """Whether an agent's live-call shards hold fewer than MAX_CO_BATCHES batches' counters (read at a batch's
        start, to decide where it counts)."""
        tags: set[str] = set()
        for item in self._get_all([(self.leases_table, _co_key(agent, s)) for s in range(CO_SHARDS)]):
            tags |= _co_tags(item)
        return len(tags) < MAX_CO_BATCHES

    def get(self, tenant_id: str, batch_id: str) -> Batch:
        """Another tenant's batch and a deleted one are both simply not found."""
        batch = self.find(batch_id)
        if batch is None or batch.tenant_id != tenant_id or batch.deleted_at:
            raise NotFound(f"batch {batch_id} not found", code="batch_not_found")
        return batch

    def list_for_agent(self, tenant_id: str, agent_id: str) -> list[Batch]:
        """Newest first; the index is KEYS_ONLY (every counter update would rewrite an ALL entry), so the
        batches are read by key behind its entries."""
        items = query_keys_all(
            ("batch_id",),
            TableName=self.table,
            IndexName=BY_AGENT,
            KeyConditionExpression="agent_key = :k",
            ExpressionAttributeValues=values(k=f"{tenant_id}#{agent_id}"),
            ScanIndexForward=False,
        )
        return self._summed([item for item in items if not item.get("deleted_at")])

    def list_active(self) -> Iterable[Batch]:
        items = query_all(
            TableName=self.table,
            IndexName="by_status",
            KeyConditionExpression="active = :a",
            ExpressionAttributeValues=values(a="1"),
        )
        return (self._summed([item])[0] for item in items)

    def transition(
        self,
        batch_id: str,
        allowed: Iterable[BatchStatus],
        to: BatchStatus,
        *,
        set_fields: Fields | None = None,
        remove_fields: Iterable[str] = (),
        start_token: str | None = None,
        require_finished: bool = False,
        require_spent: bool = False,
        spent_against: float | None = None,
        shards: int = 0,
        co: str | None = None,
    ) -> Batch:
        """Move a batch between states with a conditional write; Conflict says which state it was in.

        `start_token`: only if the batch still holds this start (a re-schedule makes older starts stale);
        `require_finished`: only once every valid contact's last attempt is final (completion);
        `require_spent`: only while the recorded cost has reached `max_spend` (the budget pause; `spent_against`:
        the budget the caller's sum reached, for a batch with counter shards, which has no total on its item).
        A batch with counter shards also copies its new status onto them (`shards`: the caller read it has them,
        which saves the refused write that would tell). A batch whose counters are on its agent's shards (`co`:
        its CO_FIELD, as the caller read it) has its halted marker set (or removed, to run) on them alike."""
        element, names, vals = self._transition_update(batch_id, to, set_fields, remove_fields)
        allowed_list = [s.value for s in allowed]
        condition = _transition_condition(allowed_list, start_token, require_finished, names, vals)
        if require_spent:  # the budget pause: only while the recorded cost has reached the budget
            condition += _spent_condition(vals, spent_against)
        element["ConditionExpression"] = condition
        shards = shards or int((set_fields or {}).get("counter_shards") or 0)
        co = co if to != BatchStatus.COMPLETED else None  # a completed batch has no call left to claim
        if not shards and not co:  # a batch without shards (nearly all): one write, refused for one with shards
            try:
                return self._transition_alone(element, to)
            except ClientError as exc:
                if not condition_failed(exc):
                    raise
                old = from_item(exc.response.get("Item") or {})  # type: ignore[arg-type]
                shards = int(old.get("counter_shards") or 0)
                co = str(old[CO_FIELD]) if old.get(CO_FIELD) and to != BatchStatus.COMPLETED else None
                if not shards and not co:
                    raise _refused(batch_id, old, to, allowed_list) from None
        return self._transition_with_shards(element, shards, to, allowed_list, co)

    def _transition_update(
        self, batch_id: str, to: BatchStatus, set_fields: Fields | None, remove_fields: Iterable[str]
    ) -> tuple[Request, dict[str, str], Wire]:
        """A transition's Update on the batch item, its condition still to add (with its names and values)."""
        fields = {"status": to.value, "updated_at": clock.now_iso(), **(set_fields or {})}
        remove = set(remove_fields)
        if to in ACTIVE:
            fields["active"] = "1"
        elif "active" not in fields:  # a caller may keep an ended batch in the sweeper's index (stop_batch)
            remove.add("active")
        update, names, vals = set_clause(fields)
        if remove:
            rnames = {f"#r{i}": name for i, name in enumerate(sorted(remove))}
            names.update(rnames)
            update += " REMOVE " + ", ".join(rnames)
        element: Request = {
            "TableName": self.table,
            "Key": self.key(batch_id),
            "UpdateExpression": update,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": vals,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        return element, names, vals

    def _transition_alone(self, element: Request, to: BatchStatus) -> Batch:
        """The batch item's transition by itself, on the condition that the batch has no counter shards (nor, but
        to complete, counters on its agent's shards)."""
        alone_only = "attribute_not_exists(counter_shards)"
        if to != BatchStatus.COMPLETED:
            alone_only += f" AND attribute_not_exists({CO_FIELD})"
        alone = {**element, "ConditionExpression": f"({element['ConditionExpression']}) AND {alone_only}"}
        result = aws.dynamodb().update_item(**alone, ReturnValues="ALL_NEW")
        item = from_item(result["Attributes"])
        if item.get(CO_FIELD):  # completed: its counts are still on its agent's shards (its caller announces them)
            return self._summed([item])[0]
        return Batch.model_validate(item)

    def _transition_with_shards(
        self, element: Request, shards: int, to: BatchStatus, allowed: list[str], co: str | None = None
    ) -> Batch:
        """The transition and its status copied onto every counter shard, in one transaction: a claim whose shard
        still said `running` committed before it; any later one is refused by its shard. Rare (a start, pause,
        resume, stop or completion), so it may cost a transaction of 1 + shards items and a read. `co`: the agent
        whose shards hold the batch's counters: its halted marker set on every one (removed to run), alike."""
        batch_id = str(from_item(element["Key"])["batch_id"])
        copies: list[Request] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(counter_key(batch_id, shard)),
                    "UpdateExpression": "SET #rs = :st",
                    "ExpressionAttributeNames": {"#rs": RUN_STATUS},
                    "ExpressionAttributeValues": values(st=to.value),
                }
            }
            for shard in range(1, shards + 1)
        ]
        if co:
            marker = "REMOVE #h" if to == BatchStatus.RUNNING else "SET #h = :h"
            copies += [
                {
                    "Update": {
                        "TableName": self.leases_table,
                        "Key": _co_key(co, shard),
                        "UpdateExpression": marker,
                        "ExpressionAttributeNames": {"#h": co_tag(batch_id) + HALTED},
                        **({} if to == BatchStatus.RUNNING else {"ExpressionAttributeValues": values(h=1)}),
                    }
                }
                for shard in range(CO_SHARDS)
            ]
        items: list[Request] = [{"Update": element}, *copies]
        for attempt in range(TRANSITION_TRIES):
            try:
                aws.dynamodb().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
                break
            except ClientError as exc:
                reasons = exc.response.get("CancellationReasons") or []
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    raise _refused(batch_id, from_item(dict(reasons[0].get("Item") or {})), to, allowed) from None
                if "TransactionConflict" not in cancellation_codes(exc):
                    raise
                if attempt == TRANSITION_TRIES - 1:
                    raise Contended(f"batch {batch_id} is busy with its calls: try again shortly") from exc
        found = self.find(batch_id)
        assert found is not None  # transitioned: it is there
        return found

    def set_fields(
        self,
        batch_id: str,
        fields: Fields,
        condition: str | None = None,
        condition_values: Wire | None = None,
    ) -> bool:
        """Plain update; False when the optional condition did not hold."""
        return update_if(self.table, self.key(batch_id), fields, condition, condition_values=condition_values)

    def advance(self, batch_id: str, pos: int, to_pos: int, status: BatchStatus) -> bool:
        """Move next_pos on from `pos`, only while the batch is in `status`: one step wins each position,
        and a dispatch step that a stop overtook cannot claim contacts the stop's cancel walk now owns."""
        return update_if(
            self.table,
            self.key(batch_id),
            {"next_pos": to_pos, "updated_at": clock.now_iso()},
            "next_pos = :pos AND #st = :st",
            {"#st": "status"},
            values(pos=pos, st=status.value),
        )

    def advance_settling(self, batch_id: str, after: str | None, to_after: str) -> bool:
        """Record how far the cancel walk over a batch's executions got; one step wins each page."""
        condition = "settle_after = :after" if after else "attribute_not_exists(settle_after)"
        return update_if(
            self.table,
            self.key(batch_id),
            {"settle_after": to_after, "updated_at": clock.now_iso()},
            condition,
            condition_values=values(after=after) if after else None,
        )

    def mark_settled(self, batch_id: str) -> bool:
        """Every contact of an ended batch has an execution and none waits to be dialled."""
        return update_if(
            self.table,
            self.key(batch_id),
            {"settled_at": clock.now_iso(), "updated_at": clock.now_iso()},
            "attribute_not_exists(settled_at)",
        )

    def close_ended(self, batch_id: str, *, require_finished: bool = True) -> bool:
        """Take a settled, ended batch out of the sweeper's index; True for the one caller that did."""
        names = {"#st": "status", "#act": "active"}
        condition = "attribute_exists(#act) AND attribute_exists(settled_at) AND #st IN (:stopped, :failed)"
        if require_finished:  # with counter shards: the caller checked the sum
            condition += f" AND (finished >= valid_contacts OR {_SUMMED_ELSEWHERE})"
        return update_if(
            self.table,
            self.key(batch_id),
            {"updated_at": clock.now_iso()},
            condition,
            names,
            values(stopped=BatchStatus.STOPPED.value, failed=BatchStatus.FAILED.value),
            remove=("#act",),
        )

    def fold_co(self, batch_id: str, agent: str) -> bool:
        """Move an ended batch's counters from its agent's shards into its item, and remove them (and its marker)
        from the shards, in one transaction: for a batch none of whose calls can count there any more (completed,
        or stopped and closed: every contact's last attempt final). Each removal is conditional on the value read,
        so a late write (a late report's tallies) meanwhile refuses it; False then, or when folded before."""
        tag = co_tag(batch_id)
        shards = self._get_all([(self.leases_table, _co_key(agent, s)) for s in range(CO_SHARDS)])
        counts: Fields = {}
        removals: list[Request] = []
        for shard in shards:
            mine = {name: value for name, value in shard.items() if name.startswith(tag)}
            if mine:
                _add_co(counts, tag, mine)
                removals.append(_co_removal(self.leases_table, shard, mine))
        names: dict[str, str] = {"#f": CO_FOLDED, "#co": CO_FIELD, "#act": "active"}
        vals: Wire = {":now": av(clock.now_iso())}
        adds = _status_adds(names, vals, counts.pop("execution_status", None) or {})
        _counter_adds(adds, vals, tuple((k, v) for k, v in counts.items() if not k.startswith(TALLY_PREFIX)))
        adds += _named_tallies(names, vals, {k: v for k, v in counts.items() if k.startswith(TALLY_PREFIX)})
        fold: Request = {
            "TableName": self.table,
            "Key": self.key(batch_id),
            # a completed batch leaves the sweeper's index with it (lifecycle.fold_ended)
            "UpdateExpression": "SET #f = :now" + (" ADD " + ", ".join(adds) if adds else "") + " REMOVE #act",
            "ConditionExpression": "attribute_exists(#co) AND attribute_not_exists(#f)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": vals,
        }
        try:
            aws.dynamodb().transact_write_items(TransactItems=[{"Update": fold}, *removals])  # type: ignore[list-item,typeddict-item]
        except ClientError as exc:
            if "ConditionalCheckFailed" in cancellation_codes(exc) or "TransactionConflict" in cancellation_codes(exc):
                return False
            raise
        return True

    def mark_purged(self, batch_id: str) -> bool:
        """The tombstone of a deleted batch whose data is gone: `purged_at`, and no field that could name a
        person (names, file name, row errors in failure_reason, warnings, the export's key). True once."""
        now = clock.now_iso()
        return update_if(
            self.table,
            self.key(batch_id),
            {"purged_at": now, "updated_at": now},
            "attribute_exists(deleted_at) AND attribute_not_exists(purged_at)",
            {"#n": "name"},
            remove=("#n", "file_name", "raw_key", "failure_reason", "warnings", "csv_export"),
        )

    def forget_export(self, batch_id: str) -> None:
        """Its last background export is out of date (an erasure changed its executions): never serve it again."""
        update_if(self.table, self.key(batch_id), {"updated_at": clock.now_iso()}, remove=("csv_export",))

    def start_export(self, batch_id: str, seen_token: str | None, token: str, started_at: str) -> bool:
        """Take the batch's one background-export slot, if no other request took it since `seen_token`."""
        condition = "csv_export_token = :old" if seen_token else "attribute_not_exists(csv_export_token)"
        return self.set_fields(
            batch_id,
            {"csv_export_token": token, "csv_export_started_at": started_at},
            condition,
            {":old": av(seen_token)} if seen_token else None,
        )

    def finish_export(self, batch_id: str, token: str, record: Fields) -> bool:
        """Record a finished export, unless a newer request has replaced it."""
        return self.set_fields(batch_id, {"csv_export": record}, "csv_export_token = :t", {":t": av(token)})

    def counter_update(
        self,
        batch_id: str,
        moves: dict[str, int],
        *,
        finished: int = 0,
        dispatched: int = 0,
        unreached: int = 0,
        must_run: bool = False,
        live_cap: int | None = None,
        ended: Ended | None = None,
        tallies: dict[str, int] | None = None,
        released: bool = False,
        not_last: int | None = None,
        shard: int | None = None,
        co: tuple[str, str] | None = None,
        slot_limit: int | None = None,
    ) -> Request:
        """The Update element that keeps execution_status counters in step with an execution change, for use inside
        a transaction (so they move exactly when the execution does). `ended`: an attempt that ended, whose cost and
        talk time the batch adds up. With `live_cap` (a claim): within budget too. `tallies`: top-level counters
        (`xb#<field>#<value>`: the extraction breakdown; an ADD creates no parent map). `released`: the attempt's
        slot is freed in the same transaction (which writes an item once, so `live` moves here). `not_last`: only
        while `finished` is below it and the batch has no budget (its caller need not read the batch after it).
        `shard`: a counter shard instead (`must_run` there: the shard's copy of the batch's status; `not_last`:
        another call there is live). `co`: see _co_update (no tallies there: ExecutionStore._tallies_apart)."""
        live = (1 if live_cap is not None else 0) - (1 if released else 0)
        plain = _plain(finished, dispatched, unreached, live, ended)
        if co is not None:
            counts = _co_counts(moves, tallies, plain)
            return self._co_update(co, counts, must_run, not_last, live, slot_limit)
        names: dict[str, str] = {"#u": "updated_at"}
        vals: Wire = {":now": av(clock.now_iso())}
        if shard:  # a shard item has no execution_status map to ADD into (one ADD cannot create it): top level
            moves, tallies = {}, {**(tallies or {}), **{STATUS_PREFIX + st: n for st, n in moves.items()}}
        adds = _named_adds(names, vals, moves, tallies or {})
        _counter_adds(adds, vals, plain)
        element: Request = {
            "TableName": self.table,
            "Key": self.key(counter_key(batch_id, shard)),
            "UpdateExpression": "SET #u = :now" + (" ADD " + ", ".join(adds) if adds else ""),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": vals,
        }
        conditions = _item_conditions(names, vals, shard, must_run, live_cap, not_last)
        if conditions:
            element["ConditionExpression"] = conditions
        return {"Update": element}

    def _co_update(
        self,
        co: tuple[str, str],
        counts: dict[str, float],
        must_run: bool,
        not_last: int | None,
        slot: int,
        limit: int | None,
    ) -> Request:
        """counter_update's element on an agent shard (co_place): the batch's counters ADDed under its tag, the
        agent's `live` by `slot` (the batch's own `live`: the slot moves with it in this one write); on the
        conditions that the batch is not halted (`must_run`), the agent's share
        `limit` has room (a claim), and another call of the batch counted there is live (`not_last`). A refusal
        returns the item, so a claim tells a halted batch from a full shard."""
        key, tag = co
        names: dict[str, str] = {}
        vals: Wire = {}
        adds = _co_adds(tag, counts, slot, names, vals)
        conditions = []
        if must_run:
            names["#h"] = tag + HALTED
            conditions.append("attribute_not_exists(#h)")
        if limit is not None:
            vals[":limit"] = av(limit)
            conditions.append("(attribute_not_exists(live) OR live < :limit)")
        if not_last is not None:
            names["#l"] = co_name(tag, "live")
            vals[":one"] = av(1)
            conditions.append("#l > :one")
        element: Request = {"TableName": self.leases_table, "Key": _co_key_of(key)}
        if names:
            element["ExpressionAttributeNames"] = names
        if vals:
            element["ExpressionAttributeValues"] = vals
        if conditions:
            element["ConditionExpression"] = " AND ".join(conditions)
            element["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if not adds:
            return {"ConditionCheck": element}  # nothing to count, only a condition to hold (none in practice)
        return {"Update": {**element, "UpdateExpression": "ADD " + ", ".join(adds)}}

    def live_update(self, batch_id: str, delta: int, shard: int | None = None) -> Request:
        return {
            "Update": {
                "TableName": self.table,
                "Key": self.key(counter_key(batch_id, shard)),
                "UpdateExpression": "ADD live :d",
                "ExpressionAttributeValues": values(d=delta),
            }
        }

    def require(self, batch_id: str) -> Batch:
        batch = self.find(batch_id)
        if batch is None:
            raise NotFound(f"batch {batch_id} not found", code="batch_not_found")
        return batch


def _co_key(agent: str, shard: int) -> Wire:
    """The key of an agent's live-call counter item in shard `shard` (store/leases.py)."""
    return {"agent_key": av(live_shard_key(agent, shard)), "lease_id": av(CO_LEASE_ID)}


def _plain(
    finished: int, dispatched: int, unreached: int, live: int, ended: Ended | None
) -> tuple[tuple[str, float], ...]:
    """counter_update's top-level counters and how much each moves."""
    plain = (("finished", finished), ("dispatched", dispatched), ("unreached", unreached), ("live", live))
    return (*plain, *(ended.counters() if ended is not None else ()))


def _co_counts(
    moves: dict[str, int], tallies: dict[str, int] | None, plain: Iterable[tuple[str, float]]
) -> dict[str, float]:
    """Every counter a change moves, by the name a counter shard gives it (co_name maps it on an agent shard)."""
    counts: dict[str, float] = {STATUS_PREFIX + status: n for status, n in moves.items()}
    counts.update(tallies or {})
    counts.update(plain)
    return counts


def _co_adds(tag: str, counts: dict[str, float], slot: int, names: dict[str, str], vals: Wire) -> list[str]:
    """The ADDs of a batch's counters under its tag (and of the agent's `live` by `slot`) on an agent shard."""
    adds = []
    for i, (name, delta) in enumerate(sorted(counts.items())):
        if delta:
            names[f"#c{i}"] = co_name(tag, name)
            vals[f":c{i}"] = av(delta)
            adds.append(f"#c{i} :c{i}")
    if slot:
        vals[":slot"] = av(slot)
        adds.append("live :slot")
    return adds


def _status_adds(names: dict[str, str], vals: Wire, statuses: Fields) -> list[str]:
    """ADDs of execution_status counts (fold_co), those at 0 too: the map then names each status a call moved
    through, as the batch item's own counting leaves it."""
    if statuses:
        names["#es"] = "execution_status"
    adds = []
    for i, (status, n) in enumerate(sorted(statuses.items())):
        names[f"#s{i}"] = status
        vals[f":d{i}"] = av(n)
        adds.append(f"#es.#s{i} :d{i}")
    return adds


def _named_tallies(names: dict[str, str], vals: Wire, tallies: Fields) -> list[str]:
    """ADDs of top-level tallies (`xb#...`), under names of their own (fold_co)."""
    adds = []
    for i, (name, delta) in enumerate(sorted(tallies.items())):
        names[f"#t{i}"] = name
        vals[f":t{i}"] = av(delta)
        adds.append(f"#t{i} :t{i}")
    return adds


def _co_removal(table: str, shard: Fields, mine: Fields) -> Request:
    """fold_co's element on one agent shard: remove the batch's attributes, on the condition that each whole-number
    one (counts, the marker) holds what was read. Not a sum of costs: read as a float, it may not equal the exact
    decimal DynamoDB's ADDs made; every write that moves one moves a count on the same item with it."""
    names = {f"#a{i}": name for i, name in enumerate(sorted(mine))}
    exact = {n: mine[name] for n, name in names.items() if isinstance(mine[name], int | str | bool)}
    element: Request = {
        "TableName": table,
        "Key": {"agent_key": av(shard["agent_key"]), "lease_id": av(shard["lease_id"])},
        "UpdateExpression": "REMOVE " + ", ".join(names),
        "ExpressionAttributeNames": names,
    }
    if exact:
        element["ConditionExpression"] = " AND ".join(f"{n} = :{n[1:]}" for n in exact)
        element["ExpressionAttributeValues"] = {f":{n[1:]}": av(value) for n, value in exact.items()}
    return {"Update": element}


def _co_key_of(partition: str) -> Wire:
    """The key of the agent live-call counter item whose partition key is `partition` (live_shard_key)."""
    return {"agent_key": av(partition), "lease_id": av(CO_LEASE_ID)}


def _transition_condition(
    allowed: list[str], start_token: str | None, require_finished: bool, names: dict[str, str], vals: Wire
) -> str:
    """The condition of a transition (adding its names and values): an allowed state, not deleted, and
    optionally still holding `start_token` and with every contact finished."""
    vals.update({f":a{i}": av(state) for i, state in enumerate(allowed)})
    names["#st"] = "status"
    condition = "#st IN (" + ", ".join(f":a{i}" for i in range(len(allowed))) + ")"
    condition += " AND attribute_not_exists(deleted_at)"
    if start_token is not None:
        condition += " AND (start_token = :tok)"
        vals[":tok"] = av(start_token)
    if require_finished:  # a batch with counter shards: its caller checked the sum (finished only grows)
        condition += f" AND (finished >= valid_contacts OR {_SUMMED_ELSEWHERE})"
    return condition


def _spent_condition(vals: Wire, spent_against: float | None) -> str:
    """The budget pause's condition; with counter shards, the caller's sum reached the budget still set."""
    if spent_against is None:
        return " AND (spend >= max_spend)"
    vals[":seen"] = av(spent_against)
    return f" AND (spend >= max_spend OR (({_SUMMED_ELSEWHERE}) AND max_spend <= :seen))"


def _refused(batch_id: str, old: Fields, to: BatchStatus, allowed: list[str]) -> Conflict:
    """The Conflict of a transition whose condition failed: it names the state the batch was in (`old`)."""
    state = old.get("status")
    return Conflict(
        f"batch {batch_id} is {state or 'missing'}; {to.value} needs one of {', '.join(allowed)}",
        code="invalid_state",
        details=[{"status": state}],
    )


def _counter_adds(adds: list[str], vals: Wire, counters: tuple[tuple[str, float], ...]) -> None:
    """`ADD <name> :<name>` for each counter that moves."""
    for name, amount in counters:
        if amount:
            adds.append(f"{name} :{name}")
            vals[f":{name}"] = av(amount)


def _item_conditions(
    names: dict[str, str], vals: Wire, shard: int | None, must_run: bool, live_cap: int | None, not_last: int | None
) -> str:
    """counter_update's condition on the batch item, or on its counter shard `shard`."""
    if shard:
        return _shard_conditions(names, vals, must_run, not_last)
    return _not_last(_counter_conditions(names, vals, must_run, live_cap), vals, not_last)


def _shard_conditions(names: dict[str, str], vals: Wire, must_run: bool, not_last: int | None) -> str:
    """counter_update's condition on a counter shard: the batch runs (the shard's copy of its status: a claim or a
    retry), and for `not_last`, another call counted there is live, so this outcome cannot end the batch."""
    conditions = []
    if must_run:
        names["#rs"] = RUN_STATUS
        vals[":running"] = av(BatchStatus.RUNNING.value)
        conditions.append("#rs = :running")
    if not_last is not None:
        vals[":one"] = av(1)
        conditions.append("live > :one")
    return " AND ".join(conditions)


def _not_last(conditions: str, vals: Wire, not_last: int | None) -> str:
    """With `not_last`: only while `finished` is below it and the batch has no budget."""
    if not_last is None:
        return conditions
    vals[":notlast"] = av(not_last)
    return " AND ".join([c for c in (conditions,) if c] + ["finished < :notlast", "attribute_not_exists(max_spend)"])
