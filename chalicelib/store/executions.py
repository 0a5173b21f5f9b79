"""Executions (one per call attempt): creation, forward-only transitions, listings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from .. import aws, clock
from ..domain import timeline
from ..domain.call_status import CallStatus, is_final, rank
from ..domain.records import Execution
from ..domain.timeline import Entry
from ..domain.timeline_codec import pack
from ..errors import NotFound
from ..resources import EXECUTIONS, table_name
from ..settings import Settings
from .agent_history import HistoryQuery, agent_key, agent_sort, history_page
from .batches import BatchStore, Ended, co_place, execution_shard
from .cursors import Cursors, KeyShape, cursor_key
from .dynamo import (
    Fields,
    Request,
    Wire,
    av,
    cancellation_codes,
    condition_failed,
    from_item,
    get_many,
    index_shard,
    query_keys_all,
    query_keys_page,
    query_shards,
    set_clause,
    storable_key,
    to_item,
    update_if,
    values,
)
from .execution_item import (
    LOG,
    PERSONAL,
    PROGRESS_MARK,
    absent,
    decode,
    encode,
    matches,
    present,
    read,
    removal,
    remove_clause,
    stored_name,
    update_names,
)
from .leases import LEASE

WAITING = ("queued", "rescheduled")  # not claimed: waiting for the dialer, or for the calling hours
# A live call's progress reports: the batch counts them under `initiated` (claimed and not ended), so a ringing or
# an answer is one conditional write on the execution alone, never a transaction on the batch item.
LIVE_PROGRESS = (CallStatus.RINGING.value, CallStatus.IN_PROGRESS.value)
# PROGRESS_MARK (store/execution_item.py) is set with each such status: the batch counts it as `initiated`. One
# stored before (without it) is counted under its own status, so its next move takes it from there.
# Set while an execution is `rescheduled`: the by_wake index lists it by `scheduled_at`, so the sweeper finds a
# call whose wake-up (a schedule, a delayed message) was lost, long past its time (services/wake_rearm.py).
WAKE_SHARD = "wake_shard"


def counted_as(status: str, execution: Execution | None = None) -> str:
    """The `execution_status` counter an execution in `status` is counted under (`execution`: as read, for one
    stored before progress stopped being counted)."""
    if status not in LIVE_PROGRESS:
        return status
    legacy = execution is not None and not (execution.model_extra or {}).get(PROGRESS_MARK)
    return status if legacy else CallStatus.INITIATED.value


def _moves(old: str, new: str, execution: Execution | None = None) -> dict[str, int]:
    """The counter moves of a status change; empty when both are counted alike."""
    before, after = counted_as(old, execution), counted_as(new)
    return {} if before == after else {before: -1, after: +1}


BY_BATCH = "by_batch_keys"  # a batch's executions in contact order (KEYS_ONLY: see resources.Index)
BY_NUMBER = "by_number_keys"  # a number's executions, for the erasure (KEYS_ONLY)
KEYS_ONLY = frozenset(i.name for i in EXECUTIONS.indexes if i.projection == "KEYS_ONLY")
KEY = (EXECUTIONS.partition_key,)  # what a KEYS_ONLY entry holds of the table's key, to read its item by

# Where a page of GET /batches/{id}/executions stops: the by_batch index's key plus the table's.
PAGE_KEY = KeyShape("executions", {"batch_id": "S", "seq": "S", "execution_id": "S"})


class StaleTransition(Exception):
    """The execution was no longer in the state the caller read: re-read and decide again. `current`: the item as
    the refused write found it, when the write could say (a single conditional write returns it; None when absent
    or not known)."""

    def __init__(self, execution_id: str, current: Execution | None = None, *, known: bool = False) -> None:
        super().__init__(execution_id)
        self.current = current
        self.known = known  # True when `current` is what the write found (None then means no such execution)


class SlotGone(Exception):
    """The lease the outcome's transaction meant to free was gone (freed before): end it without freeing."""


class MaybeLast(Exception):
    """The outcome's `not_last` condition failed (nothing written): it may complete the batch, or the batch has a
    budget; end it again without the condition, then read the batch."""


class ExecutionStore:
    def __init__(self, settings: Settings, batches: BatchStore) -> None:
        self.table = table_name(settings, EXECUTIONS)
        self._batches = batches
        self._cursors = Cursors(cursor_key(settings))

    def key(self, execution_id: str) -> Wire:
        return {"execution_id": av(execution_id)}

    def create_many(
        self, batch_id: str, executions: list[Execution], *, must_run: bool = False, unreached: bool = False
    ) -> bool:
        """Write up to 99 new executions and count them on the batch, all or nothing.

        False when they already exist: a redelivered dispatch must not reset calls already made.
        `must_run`: raise BatchNotRunning (writing nothing) when a stop or pause landed first.
        `unreached`: contacts an ended batch never dialled, counted apart from the dispatched.
        """
        items: list[Request] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(encode(_indexed(execution.to_item()))),
                    "ConditionExpression": "attribute_not_exists(execution_id)",
                }
            }
            for execution in executions
        ]
        moves: dict[str, int] = {}
        for execution in executions:
            moves[execution.status] = moves.get(execution.status, 0) + 1
        items.append(
            self._batches.counter_update(
                batch_id,
                moves,
                finished=sum(1 for e in executions if is_final(e.status)),
                dispatched=0 if unreached else len(executions),
                unreached=len(executions) if unreached else 0,
                must_run=must_run,
            )
        )
        try:
            aws.dynamodb().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if must_run and codes[-1:] == ["ConditionalCheckFailed"]:
                raise BatchNotRunning(batch_id) from None
            if "ConditionalCheckFailed" in codes:
                return False
            raise
        return True

    def create_absent(self, batch_id: str, executions: list[Execution], *, unreached: bool = False) -> int:
        """Like create_many, but skipping those that exist (a racing step wrote them); how many were written."""
        if self.create_many(batch_id, executions, unreached=unreached):
            return len(executions)
        return sum(1 for e in executions if self.create_many(batch_id, [e], unreached=unreached))

    def find(self, execution_id: str) -> Execution | None:
        if not storable_key(execution_id):
            return None
        item = (
            aws.dynamodb().get_item(TableName=self.table, Key=self.key(execution_id), ConsistentRead=True).get("Item")
        )
        return Execution.model_validate(read(item)) if item else None

    def get(self, tenant_id: str, execution_id: str) -> Execution:
        execution = self.find(execution_id)
        if execution is None or execution.tenant_id != tenant_id:
            raise NotFound(f"execution {execution_id} not found", code="execution_not_found")
        return execution

    def move(
        self,
        execution: Execution,
        to_status: str,
        fields: Fields | None = None,
        *,
        batch_must_run: bool = False,
        batch_live_cap: int | None = None,
        extra: list[Request] | None = None,
        guard: Request | None = None,
        notes: list[Entry] | None = None,
        tallies: dict[str, int] | None = None,
        release: list[Request] | None = None,
        not_last: int | None = None,
        unmark: bool = False,
        wait: tuple[str | None, ...] | None = None,
        slot_limit: int | None = None,
    ) -> Execution:
        """Compare-and-set the status from the one read, moving the batch counters in the same transaction. Raises
        StaleTransition when the execution changed meanwhile; BatchNotRunning when `batch_must_run` and the
        batch was stopped or paused first (or its live-call cap is reached, with `batch_live_cap`); GuardRefused
        (with the item as it was) when the `guard` element's condition failed (the number's suppression and contact
        limit); NoFreeSlot when an `extra` element's condition failed (the agent's live-call counter). `notes`: see
        _status_update. `release`: the slot's elements (store/leases.py), last, so it is freed in the same
        transaction; `unmark`: the lease is the execution's own LEASE, removed by its write on the condition that it
        is there. SlotGone when the lease was freed before (nothing written: end it again without them). `not_last`:
        see BatchStore.counter_update; MaybeLast when it did not hold. A change the batch does not count (a live
        call's progress) is one write. `wait`: see _live_wait, StaleWait. `slot_limit`: _off_item."""
        old = execution.status
        changes, remove = _changes(execution.execution_id, to_status, fields)
        if old == CallStatus.RESCHEDULED and to_status != old:
            remove.append(WAKE_SHARD)  # woken (or ended): off the by_wake index
        update = self._status_update(execution.execution_id, old, changes, remove, notes, unmark=unmark, wait=wait)
        tallies, extra = self._tallies_apart(execution, changes, tallies, extra)
        counters = self._counters(
            execution, to_status, changes, batch_must_run, batch_live_cap, tallies, bool(release), not_last, slot_limit
        )
        release, extra = _off_counted(execution, changes, counters, release, extra)
        if counters is None and guard is None and not extra:
            self._write_one(update, execution.execution_id)
        else:
            items = [update, *([counters] if counters is not None else [])]
            if guard is not None:
                items.append(guard)  # third, so its refusal is told apart from the live-call slot's
            items.extend([*(extra or []), *(release or [])])
            released, guarded = len(release or []), guard is not None
            _transact(items, execution, released=released, not_last=not_last, guarded=guarded, unmark=unmark, wait=wait)
        gone = {*remove, *([LEASE] if unmark else [])}
        kept = {k: v for k, v in execution.model_dump().items() if k not in gone}
        return Execution.model_validate({**kept, **changes})

    def advance(self, execution_id: str, from_status: str, to_status: str, fields: Fields) -> None:
        """A live call's progress (`ringing`, `in-progress`) written without reading first: compare-and-set from
        the status it most likely has. StaleTransition (with the item as it was) when it had another, or none."""
        if _moves(from_status, to_status):
            raise ValueError(f"{from_status} -> {to_status} moves the batch counters: use move()")
        changes, remove = _changes(execution_id, to_status, fields)
        update = self._status_update(execution_id, from_status, changes, remove, None)
        if from_status in LIVE_PROGRESS:  # and counted as initiated: not one stored before (see PROGRESS_MARK)
            element = update["Update"]
            element["ConditionExpression"] += " AND " + present(PROGRESS_MARK, element["ExpressionAttributeNames"])
        self._write_one(update, execution_id)

    def _write_one(self, update: Request, execution_id: str) -> None:
        """The status update alone: on refusal, the item as it was comes back with the error (no second read)."""
        try:
            aws.dynamodb().update_item(**update["Update"], ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            item = exc.response.get("Item")
            current = Execution.model_validate(read(item)) if item else None  # type: ignore[arg-type]
            raise StaleTransition(execution_id, current, known=True) from None

    def _counters(
        self,
        execution: Execution,
        to_status: str,
        changes: Fields,
        must_run: bool,
        live_cap: int | None,
        tallies: dict[str, int] | None,
        released: bool = False,
        not_last: int | None = None,
        slot_limit: int | None = None,
    ) -> Request | None:
        """The batch counters' element of a move (None when the batch has nothing to count: a live call's
        progress); an attempt that ended after its claim adds its cost and talk."""
        old = execution.status
        became_final = is_final(to_status) and not is_final(old)
        moves = _moves(old, to_status, execution)
        if not (moves or became_final or must_run or live_cap is not None or tallies or released or not_last):
            return None
        return self._batches.counter_update(
            execution.batch_id,
            moves,
            finished=1 if became_final else 0,
            must_run=must_run,
            live_cap=live_cap,
            tallies=tallies,  # the extraction breakdown, with the outcome
            ended=Ended.of(changes) if became_final and rank(old) >= rank(CallStatus.INITIATED) else None,
            released=released,
            not_last=not_last,
            shard=_shard(execution, changes),
            co=_co_of(execution, changes),
            slot_limit=slot_limit,
        )

    def replace_with_retry(
        self,
        old: Execution,
        final_status: str,
        fields: Fields,
        new: Execution,
        extra: list[Request] | None = None,
        notes: list[Entry] | None = None,
        *,
        tallies: dict[str, int] | None = None,
        release: list[Request] | None = None,
        unmark: bool = False,
    ) -> None:
        """End an attempt and create the next one in one transaction.

        The contact stays unfinished: the counters move from the old attempt's status to the
        new attempt's, so the batch counts each contact by its last attempt. `release`, `unmark`: as in move().
        """
        now = clock.now_iso()
        changes = {"status": final_status, "updated_at": now, **fields}
        tallies, extra = self._tallies_apart(old, changes, tallies, extra)
        counters = self._retry_counters(old, new, changes, tallies, bool(release))
        if release and _co_of(old, changes) is not None:
            release = _off_item(release, counters)  # its counters' element frees the agent's slot
        items = [
            self._status_update(
                old.execution_id, old.status, changes, ["open_shard", WAKE_SHARD], notes, unmark=unmark
            ),
            counters,
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(encode(_indexed(new.to_item(), f"retry after {final_status}"))),
                    "ConditionExpression": "attribute_not_exists(execution_id)",
                }
            },
            *(extra or []),
            *(release or []),
        ]
        try:
            aws.dynamodb().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            refusal = _retry_refused(exc, old, len(items), len(release or []), unmark)
            if refusal is None:
                raise
            raise refusal from None

    def _retry_counters(
        self, old: Execution, new: Execution, changes: Fields, tallies: dict[str, int] | None, released: bool
    ) -> Request:
        """replace_with_retry's counter update: in the old attempt's counter shard, if its claim counted in one."""
        return self._batches.counter_update(
            old.batch_id,
            {counted_as(old.status, old): -1, new.status: +1},
            must_run=True,
            ended=Ended.of(changes) if rank(old.status) >= rank(CallStatus.INITIATED) else None,
            tallies=tallies,
            released=released,
            shard=_shard(old, changes),
            co=_co_of(old, changes),
        )

    def add_details(self, execution: Execution, fields: Fields, *, tallies: dict[str, int]) -> bool:
        """Details reported after the final status (Bolna's `completed` after `call-disconnected`), set only if
        none of them is known yet and the status is still the one read, with the batch tallies they add, in one
        transaction; marks the execution `late_details_at`. False when another delivery set them first. The tallies
        go to its batch's item, or its counter shard: never its agent's (_tallies_apart)."""
        changes = {**fields, "updated_at": clock.now_iso(), "late_details_at": clock.now_iso()}
        sets, removed = update_names(changes)
        update, names, vals = set_clause(sets)
        update += remove_clause(removed, names)
        vals[":st"] = av(str(execution.status))
        condition = " AND ".join([matches("status", "{} = :st", names), *(absent(f, names) for f in fields)])
        items: list[Request] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(execution.execution_id),
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": vals,
                }
            }
        ]
        if tallies:
            shard = execution_shard(execution.model_extra)
            items.append(self._batches.counter_update(execution.batch_id, {}, tallies=tallies, shard=shard))
        try:
            aws.dynamodb().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if "ConditionalCheckFailed" in cancellation_codes(exc):
                return False
            raise
        return True

    def _tallies_apart(
        self, execution: Execution, changes: Fields, tallies: dict[str, int] | None, extra: list[Request] | None
    ) -> tuple[dict[str, int] | None, list[Request] | None]:
        """An outcome's extraction tallies, and its `extra` elements with one that counts them on the batch's item
        instead, for a call counted on its agent's shard (co_place): their names are open-ended (field and value, up
        to 100 characters each), and on the shard they would grow an item every call of the agent writes past 1 KB."""
        if not tallies or _co_of(execution, changes) is None:
            return tallies, extra
        return None, [self._batches.counter_update(execution.batch_id, {}, tallies=tallies), *(extra or [])]

    def _status_update(
        self,
        execution_id: str,
        old_status: str,
        changes: Fields,
        remove: list[str],
        notes: list[Entry] | None,
        *,
        unmark: bool = False,
        wait: tuple[str | None, ...] | None = None,
    ) -> Request:
        """The transaction element that compare-and-sets an execution's status from the one read, appending
        to the call's timeline in the same write `notes` (what led to the change) and the change itself.
        `unmark`: and removes its LEASE, which must be there (the item comes back with a refusal)."""
        notes = [*(notes or []), timeline.status_change(old_status, changes["status"], changes, changes["updated_at"])]
        sets, removed = update_names(changes, [*remove, *([LEASE] if unmark else [])])
        update, names, vals = set_clause(sets)
        update += ", #tl = list_append(if_not_exists(#tl, :tl0), :tl)"
        names["#tl"] = LOG
        vals.update({":old": av(old_status), ":tl0": av([]), ":tl": av([pack(note) for note in notes])})
        update += remove_clause(removed, names)
        condition = matches("status", "{} = :old", names) + (" AND " + present(LEASE, names) if unmark else "")
        if wait is not None:
            live = _live_wait(wait, names)
            condition += f" AND {live[0]}"
            vals.update(live[1])
        element: Request = {
            "TableName": self.table,
            "Key": self.key(execution_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": vals,
        }
        if unmark or wait is not None:
            element["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Update": element}

    def set_fields(
        self,
        execution_id: str,
        fields: Fields,
        *,
        only_if_status: Iterable[str] = (),
        notes: list[Entry] | None = None,
    ) -> bool:
        """Record details that do not change the status (e.g. the provider's call id); `notes`: timeline
        entries appended in the same write."""
        appends = {LOG: [pack(note) for note in notes]} if notes else None
        allowed = list(only_if_status)
        if not allowed:
            return self._update_if(execution_id, fields, appends=appends)
        names: dict[str, str] = {}
        return self._update_if(
            execution_id,
            fields,
            matches("status", "{} IN (" + ", ".join(f":a{i}" for i in range(len(allowed))) + ")", names),
            names,
            {f":a{i}": av(s) for i, s in enumerate(allowed)},
            appends=appends,
        )

    def _update_if(
        self,
        execution_id: str,
        fields: Fields,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        condition_values: Wire | None = None,
        removing: tuple[str, ...] = (),
        appends: dict[str, list[Any]] | None = None,
    ) -> bool:
        """dynamo.update_if on an execution: `fields` and `removing` by field name, written by stored name (the
        condition's names: execution_item's matches, present, absent)."""
        sets, removed = update_names(fields, removing)
        names = dict(names or {})
        remove = removal(removed, names)
        return update_if(
            self.table,
            self.key(execution_id),
            sets,
            condition,
            names,
            condition_values,
            remove=tuple(remove),
            appends=appends,
        )

    def hand_off_wait(self, execution_id: str, live: tuple[str | None, ...], token: str) -> bool:
        """Record `token` as the live copy of a waiting call's message, if the copy handing off still was (the
        execution's `wait_token` one of `live`, None: none recorded yet) and the call is still unclaimed."""
        names: dict[str, str] = {}
        live_tokens, tokens = _live_wait(live, names)
        return self._update_if(
            execution_id,
            {"wait_token": token},
            f"{live_tokens} AND " + matches("status", "{} IN (:q, :r)", names),
            names,
            {**values(q=WAITING[0], r=WAITING[1]), **tokens},
        )

    def take_place_token(self, execution_id: str, token: str) -> bool:
        """One delivery of a re-queued placement wins the token; a duplicate of that message finds it gone."""
        names: dict[str, str] = {}
        return self._update_if(
            execution_id,
            {"updated_at": clock.now_iso()},
            matches("place_token", "{} = :t", names) + " AND " + matches("status", "{} = :s", names),
            names,
            values(t=token, s="initiated"),
            removing=("place_token",),
        )

    def remember_callback(self, execution_id: str, replay_key: str) -> None:
        """Note a provider callback as received, so a replay of it is refused."""
        aws.dynamodb().update_item(
            TableName=self.table,
            Key=self.key(execution_id),
            UpdateExpression="ADD #c :k",
            ConditionExpression="attribute_exists(execution_id)",
            ExpressionAttributeNames={"#c": stored_name("callbacks")},  # read with the long-named set, if any
            ExpressionAttributeValues={":k": {"SS": [replay_key]}},
        )

    def page_for_batch(
        self, batch_id: str, *, limit: int, cursor: str | None, status: str | None
    ) -> tuple[list[Execution], str | None]:
        """One page in contact order; with a status filter, pages are filled up to `limit` (the filter applies
        to the items read behind the KEYS_ONLY index's entries, as a FilterExpression would have)."""
        scope = {"batch_id": batch_id, "status": status or ""}
        start = self._cursors.decode(PAGE_KEY, scope, cursor)
        found: list[Execution] = []
        while True:
            kwargs: Request = {
                "TableName": self.table,
                "IndexName": BY_BATCH,
                "KeyConditionExpression": "batch_id = :b",
                "ExpressionAttributeValues": values(b=batch_id),
                "Limit": limit - len(found),
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = query_keys_page(KEY, **kwargs)
            items = [decode(i) for i in page.items]
            found.extend(Execution.model_validate(i) for i in items if not status or i["status"] == status)
            start = page.last_key
            if not start or len(found) >= limit:
                return found, self._cursors.encode(PAGE_KEY, scope, start)

    def page_for_agent(self, query: HistoryQuery) -> tuple[list[Execution], bool]:
        """An agent's executions newest first, one page by number, and whether more follow."""
        rows, more = history_page(self.table, query)
        return [Execution.model_validate(row) for row in rows], more

    def iter_batch(self, batch_id: str) -> Iterator[Execution]:
        """Every execution of a batch (exports read millions): built without validation, as stored."""
        items = query_keys_all(
            KEY,
            TableName=self.table,
            IndexName=BY_BATCH,
            KeyConditionExpression="batch_id = :b",
            ExpressionAttributeValues=values(b=batch_id),
        )
        for stored in items:  # the timeline left out: not exported, and packed (domain/timeline_codec.py)
            item = decode(stored)
            kept = {k: v for k, v in item.items() if k != LOG}
            yield Execution.model_construct(**{**kept, "status": CallStatus(item["status"])})

    def waiting_page(self, batch_id: str, after: str | None, limit: int) -> tuple[list[Execution], str | None]:
        """Executions not yet claimed (queued, rescheduled) past `after` (a seq), reading at most `limit`;
        the seq to go on after, or None at the end."""
        condition = "batch_id = :b" + (" AND seq > :after" if after else "")
        vals = values(b=batch_id, **({"after": after} if after else {}))
        page = query_keys_page(
            KEY,
            TableName=self.table,
            IndexName=BY_BATCH,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=vals,
            Limit=limit,
        )
        items = [Execution.model_validate(i) for i in map(decode, page.items) if i["status"] in WAITING]
        return items, (page.last_key["seq"]["S"] if page.last_key else None)

    def open_before(self, cutoff_iso: str) -> Iterator[Execution]:
        """Calls claimed or in flight whose last change is older than the cutoff (for the sweeper)."""
        items = query_shards(
            "open_shard",
            "updated_at < :c",
            TableName=self.table,
            IndexName="by_open",
            ExpressionAttributeValues=values(c=cutoff_iso),
        )
        return (Execution.model_validate(decode(item)) for item in items)

    def wakes_due_before(self, cutoff_iso: str) -> Iterator[Execution]:
        """Calls still `rescheduled` whose wake-up time is older than the cutoff (for the sweeper): normally none."""
        entries = query_shards(
            WAKE_SHARD,
            "scheduled_at < :c",
            TableName=self.table,
            IndexName="by_wake",
            ExpressionAttributeValues=values(c=cutoff_iso),
        )
        keys = [self.key(str(entry["execution_id"])) for entry in entries]  # KEYS_ONLY: the items by key
        for item in map(decode, get_many(self.table, KEY, keys) if keys else []):
            if item.get("status") == CallStatus.RESCHEDULED:
                yield Execution.model_validate(item)

    def rearm_wake(self, execution: Execution, token: str) -> bool:
        """Take over a lost wake-up: still `rescheduled` and unchanged since read (so a wake-up or a slot wait's
        hand-off that moved it meanwhile wins); `token` becomes its live wait chain (DialMessage.live_wait)."""
        names: dict[str, str] = {}
        return self._update_if(
            execution.execution_id,
            {"updated_at": clock.now_iso(), "wait_token": token},
            matches("status", "{} = :r", names) + " AND updated_at = :u",
            names,
            values(r=CallStatus.RESCHEDULED.value, u=execution.updated_at),
        )

    # Erasure and purge (services/erasures.py, services/purge_walk.py)

    def page_after(
        self, index: str, key_name: str, key: str, sort_name: str, after: str | None, limit: int
    ) -> tuple[list[Execution], str | None]:
        """Up to `limit` executions of one index partition whose sort key is past `after`, in key order;
        the sort key to go on after, or None at the end. BY_BATCH (seq) or by_number_keys (execution_id)."""
        condition = "#p = :p" + (" AND #s > :after" if after else "")
        page = query_keys_page(
            KEY if index in KEYS_ONLY else None,
            TableName=self.table,
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#p": key_name, "#s": sort_name} if after else {"#p": key_name},
            ExpressionAttributeValues=values(p=key, **({"after": after} if after else {})),
            Limit=limit,
        )
        found = [Execution.model_validate(decode(item)) for item in page.items]
        return found, (page.last_key[sort_name]["S"] if page.last_key else None)

    def erase(self, execution_id: str, fields: Fields) -> bool:
        """Remove a final execution's personal data and set `fields` (the masked number, `erased_at`); it
        leaves the by_number_keys index. False when it was erased already or is not final (a live call still
        owes its outcome)."""
        final = [s.value for s in CallStatus if is_final(s)]
        names: dict[str, str] = {}
        return self._update_if(
            execution_id,
            fields,
            "attribute_exists(number_key) AND "
            + matches("status", "{} IN (" + ", ".join(f":f{i}" for i in range(len(final))) + ")", names),
            names,
            {f":f{i}": av(s) for i, s in enumerate(final)},
            removing=PERSONAL,  # under both names (an item written before holds the long ones)
        )

    def delete_many(self, execution_ids: list[str]) -> None:
        """Delete executions (absent ones are fine), 25 per request, until DynamoDB took every one."""
        for start in range(0, len(execution_ids), 25):
            requests: Request | None = {
                self.table: [{"DeleteRequest": {"Key": self.key(i)}} for i in execution_ids[start : start + 25]]
            }
            while requests:
                requests = aws.dynamodb().batch_write_item(RequestItems=requests).get("UnprocessedItems") or None


def _live_wait(live: tuple[str | None, ...], names: dict[str, str]) -> tuple[str, Wire]:
    """The condition that the execution's `wait_token` is one of `live` (None: none recorded), and its values. On
    a claim (move's `wait`): only the live copy of a waiting call's message claims; StaleWait when this copy is
    not (nothing written), so any other refusal says it is, with no read (DialMessage.live_wait)."""
    known = [t for t in live if t is not None]
    tests = [matches("wait_token", f"{{}} = :w{i}", names) for i in range(len(known))]
    if None in live or not tests:
        tests.append(absent("wait_token", names))
    tokens = values(**{f"w{i}": t for i, t in enumerate(known)})
    return tests[0] if len(tests) == 1 else "(" + " OR ".join(tests) + ")", tokens  # DynamoDB refuses "((...))"


class StaleWait(Exception):
    """A claim by a copy of a waiting call's message that is not the live one (DialMessage.live_wait): drop it."""


def _stale_wait(refusal: StaleTransition, execution: Execution) -> Exception:
    """A refusal by the execution's own condition, told apart when it held a wait token's: the status as read, so
    the token was not this copy's (StaleWait), or the status changed (StaleTransition, as it was)."""
    current = refusal.current
    if current is not None and current.status == execution.status:
        return StaleWait(execution.execution_id)
    return refusal


class GuardRefused(Exception):
    """The claim's guard element (the number's item) refused: `item` is that item as it was, in wire form."""

    def __init__(self, item: Fields | None) -> None:
        super().__init__("guard refused")
        self.item = item


def _move_refused(exc: ClientError, execution: Execution, *, guarded: bool) -> Exception | None:
    """Which element of a move's transaction refused it (its order: the execution, the batch, the guard, the
    slot); None when no condition failed (the error is raised as it came)."""
    codes = cancellation_codes(exc)
    if codes and codes[0] == "ConditionalCheckFailed":
        found = read(dict((exc.response.get("CancellationReasons") or [{}])[0].get("Item") or {}))
        return StaleTransition(execution.execution_id, Execution.model_validate(found) if found else None)
    if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
        return BatchNotRunning(execution.batch_id)
    if guarded and codes[2:3] == ["ConditionalCheckFailed"]:
        reasons = exc.response.get("CancellationReasons") or []
        return GuardRefused(dict(reasons[2].get("Item") or {}))
    if "ConditionalCheckFailed" in codes[2:]:
        return NoFreeSlot(execution.batch_id)
    return None


def _shard(execution: Execution, changes: Fields) -> int | None:
    """The batch counter shard an execution counts in: the one its claim chose (in `changes`, for the claim)."""
    return execution_shard(changes) or execution_shard(execution.model_extra)


def _co_of(execution: Execution, changes: Fields) -> tuple[str, str] | None:
    """The agent shard an execution's counters are kept on (its claim's, in `changes` for the claim), if any."""
    extra = {**(execution.model_extra or {}), **changes}
    return co_place(execution.batch_id, extra, execution.tenant_id, execution.agent_id)


def _halted_name(counters: Request) -> str | None:
    """The batch's halted marker, when `counters` is a claim's element on its agent's shard (BatchStore._co_update:
    the only counters element whose condition names it); None otherwise."""
    (body,) = counters.values()
    return (body.get("ExpressionAttributeNames") or {}).get("#h")


def _off_counted(
    execution: Execution,
    changes: Fields,
    counters: Request | None,
    release: list[Request] | None,
    extra: list[Request] | None,
) -> tuple[list[Request] | None, list[Request] | None]:
    """move's `release` and `extra`, but those on the agent shard its counters are on (_off_item)."""
    if _co_of(execution, changes) is None:
        return release, extra
    return _off_item(release or [], counters), _off_item(extra or [], counters)


def _off_item(elements: list[Request], counters: Request | None) -> list[Request]:
    """`elements` but those on the item `counters` writes: an execution counted on its agent's shard (co_place)
    moves the agent's live-call count in its counters' element (a transaction writes an item once)."""
    if counters is None:
        return elements
    (target,) = counters.values()

    def same(element: Request) -> bool:
        (body,) = element.values()
        return bool(body.get("TableName") == target["TableName"] and body.get("Key") == target["Key"])

    return [element for element in elements if not same(element)]


def _changes(execution_id: str, to_status: str, fields: Fields | None) -> tuple[Fields, list[str]]:
    """What a status change sets and removes: a call a provider owes a final status stays in the by_open index
    (under its own shard of the index's key, so no single key takes every call's writes)."""
    changes = {"status": to_status, "updated_at": clock.now_iso(), **(fields or {})}
    remove: list[str] = []
    if is_final(to_status) or to_status in WAITING:
        remove.append("open_shard")  # nothing is owed by a provider: the sweeper leaves it alone
    else:
        changes["open_shard"] = index_shard(execution_id)
    if to_status in LIVE_PROGRESS:
        changes[PROGRESS_MARK] = True
    if to_status == CallStatus.RESCHEDULED:
        changes[WAKE_SHARD] = index_shard(execution_id)  # by_wake, sorted by its `scheduled_at`
    return changes, remove


def _indexed(item: Fields, reason: str | None = None) -> Fields:
    """An execution's item as first written: with the by_agent index's keys (the agent's history lists it by
    creation time) and its timeline's first entry."""
    created_at = item.get("created_at") or ""
    first = timeline.created(
        item["status"], int(item.get("attempt") or 1), created_at, reason or item.get("error_message")
    )
    kept = {k: v for k, v in item.items() if k != "timeline"}  # a new attempt's timeline starts here
    return {
        **kept,
        "agent_key": agent_key(item["tenant_id"], item["agent_id"]),
        "agent_sort": agent_sort(created_at, item["execution_id"]),
        LOG: [pack(first)],
    }


def _retry_refused(exc: ClientError, old: Execution, size: int, released: int, unmark: bool) -> Exception | None:
    """Which element of replace_with_retry's transaction refused it (the old attempt, the batch, the new attempt,
    the slot's last `released`); None when no condition failed."""
    codes = cancellation_codes(exc)
    if released and "ConditionalCheckFailed" in codes[size - released :]:
        return SlotGone(old.execution_id)
    if unmark and _lease_gone(exc, old.status):
        return SlotGone(old.execution_id)
    if codes[:1] == ["ConditionalCheckFailed"] or codes[2:3] == ["ConditionalCheckFailed"]:
        return StaleTransition(old.execution_id)
    if codes[1:2] == ["ConditionalCheckFailed"]:
        return BatchNotRunning(old.batch_id)
    return None


def _lease_gone(exc: ClientError, old_status: str) -> bool:
    """Whether the execution's write was refused only for want of its LEASE: still in the status read, with
    its slot freed before (the item comes back with the refusal)."""
    reasons = exc.response.get("CancellationReasons") or []
    if not reasons or reasons[0].get("Code") != "ConditionalCheckFailed":
        return False
    item = read(dict(reasons[0].get("Item") or {}))
    return bool(item) and item.get("status") == old_status and LEASE not in item


class NoFreeSlot(Exception):
    """Every live-call slot of the agent is taken."""


class BatchNotRunning(Exception):
    def __init__(self, batch_id: str) -> None:
        super().__init__(batch_id)
        self.batch_id = batch_id


def _transact(
    items: list[Request],
    execution: Execution,
    *,
    released: int,
    not_last: int | None,
    guarded: bool,
    unmark: bool = False,
    wait: tuple[str | None, ...] | None = None,
) -> None:
    """Execution.move's transaction, its refusals told apart (the last `released` elements free the slot;
    `unmark`: so does the execution's own write; `wait`: its condition also checked a wait token)."""
    try:
        aws.dynamodb().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
    except ClientError as exc:
        codes = cancellation_codes(exc)
        if released and "ConditionalCheckFailed" in codes[len(items) - released :]:
            raise SlotGone(execution.execution_id) from None
        if unmark and _lease_gone(exc, execution.status):
            raise SlotGone(execution.execution_id) from None
        if not_last is not None and codes[:2] == ["None", "ConditionalCheckFailed"]:
            raise MaybeLast(execution.batch_id) from None
        halted = _halted_name(items[1]) if len(items) > 1 else None
        if halted is not None and codes[:2] == ["None", "ConditionalCheckFailed"]:
            reasons = exc.response.get("CancellationReasons") or []
            if halted not in from_item(dict(reasons[1].get("Item") or {})):  # it runs: the agent's shard is full
                if guarded and codes[2:3] == ["ConditionalCheckFailed"]:  # the number's refusal first, as before
                    raise GuardRefused(dict(reasons[2].get("Item") or {})) from None
                raise NoFreeSlot(execution.batch_id) from None
        refusal = _move_refused(exc, execution, guarded=guarded)
        if refusal is None:
            raise
        raise (
            _stale_wait(refusal, execution) if wait is not None and isinstance(refusal, StaleTransition) else refusal
        ) from None
