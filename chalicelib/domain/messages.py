"""Every queue message, defined once: producers build it with its constructor, consumers parse it.

The wire form is the JSON of the fields a message was built with (`wire()`), so a producer's message
carries exactly the keys it always did, and a message handed back (`again`) carries all of its fields.
Consumers ignore keys they do not know, so messages in flight across a deploy still parse.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from .call_status import CallStatus
from .calling_rules import CallingRules
from .json_input import JsonObject
from .records import Batch, Execution

ProviderStatus = Literal[
    "initiated", "ringing", "in-progress", "completed", "no-answer", "busy", "failed", "error", "canceled"
]


class QueueMessage(BaseModel):
    """A queue message body; `wire()` is its one serialisation."""

    model_config = ConfigDict(extra="ignore")

    def wire(self, compact: bool = True) -> str:
        body = self.model_dump(exclude_unset=True)
        return json.dumps(body, separators=(",", ":")) if compact else json.dumps(body)

    def again(self, **changes: Any) -> Self:
        """This message with some fields changed, every field on the wire (a message handed back to its queue)."""
        return self.model_validate({**self.model_dump(), **changes})


class ControlMessage(QueueMessage):
    """The control queue: start a batch, dispatch its next step, take a step of its cancel walk, or check
    that a presigned upload's file arrived (`upload_check`, due at `start_at`); take a step of a deleted
    batch's purge (`purge`) or of a number's erasure (`erase`, no batch)."""

    kind: Literal["start", "dispatch", "cancel", "upload_check", "purge", "erase"]
    batch_id: str = ""
    token: str | None = None
    start_at: str | None = None
    pos: int = 0
    waits: int = 0
    after: str | None = None  # "cancel": the last execution (seq) whose waiting was settled; "purge", "erase": likewise
    phase: str | None = None  # "purge": which of a deleted batch's data this step removes
    tenant_id: str | None = None  # "erase"
    erasure_id: str | None = None  # "erase"

    @classmethod
    def start(cls, batch_id: str, token: str, start_at: str) -> ControlMessage:
        return cls(kind="start", batch_id=batch_id, token=token, start_at=start_at)

    @classmethod
    def dispatch(cls, batch_id: str, pos: int, waits: int = 0) -> ControlMessage:
        return cls(kind="dispatch", batch_id=batch_id, pos=pos, waits=waits)

    @classmethod
    def cancel(cls, batch_id: str, pos: int, after: str | None = None) -> ControlMessage:
        """A step of an ended batch's cancel walk: contacts from `pos`, then executions after seq `after`."""
        return cls(kind="cancel", batch_id=batch_id, pos=pos, after=after)

    @classmethod
    def purge(cls, batch_id: str, phase: str, after: str | None = None) -> ControlMessage:
        """A step of a deleted batch's purge: `phase` executions (after seq `after`), deliveries, objects."""
        return cls(kind="purge", batch_id=batch_id, phase=phase, after=after)

    @classmethod
    def erase(cls, tenant_id: str, erasure_id: str, after: str | None = None) -> ControlMessage:
        """A step of an erasure: the number's executions after execution id `after`."""
        return cls(kind="erase", tenant_id=tenant_id, erasure_id=erasure_id, after=after)

    @classmethod
    def erase_files(cls, tenant_id: str, erasure_id: str, batch_id: str, pos: int) -> ControlMessage:
        """A step of an erasure: the files of a batch it erased executions of, from contact chunk `pos`."""
        return cls(kind="erase", tenant_id=tenant_id, erasure_id=erasure_id, phase="files", batch_id=batch_id, pos=pos)

    @classmethod
    def upload_check(cls, batch_id: str, due_at: str) -> ControlMessage:
        """After a presigned upload's URL expired (and a grace period): fail its batch if no file arrived."""
        return cls(kind="upload_check", batch_id=batch_id, start_at=due_at)


class DialMessage(QueueMessage):
    """The dial queue: everything the dialer needs to place one attempt without reading it first."""

    execution_id: str
    batch_id: str
    tenant_id: str
    agent_id: str
    to: str
    from_number: str | None = None
    contact_index: int
    attempt: int = 1
    variables: dict[str, str] = Field(default_factory=dict)
    bypass_window: bool = False
    rules: CallingRules | None = None  # the batch's own calling rules, each replacing the agent's
    batch_cap: int | None = None
    batch_shards: int | None = None  # the batch's counter shards (store/batches.py): a claim counts in one of them
    # The batch counts on its agent's live-call shards (store/batches.py CO_FIELD): its valid contacts (> 0)
    batch_co: int | None = None
    not_before: str | None = None  # a retry or a rescheduled call: not to be dialled before this
    # "initiated": the call was claimed and its placement failed or was paced; place it without claiming again
    expect_status: Literal["queued", "rescheduled", "initiated"] = "queued"
    waits: int = 0  # how many times it has waited for a free live-call slot
    place_tries: int = 0  # placements the provider failed (5xx, timeout)
    throttled: int = 0  # times the provider's rate limit sent it back
    place_token: str | None = None  # with expect_status "initiated": the token this delivery must win
    # A waiting (unclaimed) call's chain of hand-backs: the token this copy carries and the one it replaced.
    # It is the live copy while the execution's `wait_token` is either; other copies die (services/dial_waits.py).
    wait_token: str | None = None
    wait_parent: str | None = None

    @classmethod
    def for_execution(cls, execution: Execution, batch: Batch, **extra: Any) -> DialMessage:
        rules = CallingRules.of(batch)
        if rules is not None:  # only then on the wire: a batch without rules sends the keys it always did
            extra["rules"] = rules
        if batch.counter_shards:  # likewise
            extra["batch_shards"] = batch.counter_shards
        if batch.co_key:  # likewise
            extra["batch_co"] = max(1, batch.valid_contacts)
        return cls(
            execution_id=execution.execution_id,
            batch_id=execution.batch_id,
            tenant_id=execution.tenant_id,
            agent_id=execution.agent_id,
            to=execution.user_number,
            from_number=execution.from_number,
            contact_index=execution.contact_index,
            attempt=execution.attempt,
            variables=execution.recipient_data or {},
            bypass_window=bool(batch.bypass_call_guardrails),
            batch_cap=batch.max_concurrent_calls,
            **extra,
        )

    def expected(self) -> Execution:
        """The execution as this message describes it: what the claim's conditional write expects to find."""
        return Execution(
            execution_id=self.execution_id,
            batch_id=self.batch_id,
            tenant_id=self.tenant_id,
            agent_id=self.agent_id,
            status=CallStatus(self.expect_status),
            contact_index=self.contact_index,
            attempt=self.attempt,
            user_number=self.to,
            from_number=self.from_number,
            recipient_data=self.variables,
        )

    def live_wait(self, current: str | None) -> bool:
        """Whether this copy carries the live wait chain, given the execution's `wait_token`: its own token, or
        the one it replaced (the copy that sent it has not recorded the hand-off yet, or died before it)."""
        return current in (self.wait_token, self.wait_parent)


class ProviderEvent(QueueMessage):
    """The provider-events queue: a provider's report on a call, normalized (from a callback or the simulator)."""

    execution_id: str
    provider: str
    provider_call_id: str | None = None
    status: ProviderStatus
    details: JsonObject = Field(default_factory=dict)

    @classmethod
    def of(
        cls, execution_id: str, provider: str, provider_call_id: str | None, status: str, **details: Any
    ) -> ProviderEvent:
        return cls(
            execution_id=execution_id,
            provider=provider,
            provider_call_id=provider_call_id,
            status=status,  # validated: a status outside ProviderStatus is refused
            details={k: v for k, v in details.items() if v is not None},
        )


class WebhookMessage(QueueMessage):
    """The webhooks queue: one attempt of one event to a tenant's URL."""

    event_id: str
    event: str
    tenant_id: str
    batch_id: str
    url: str
    payload: JsonObject
    created_at: str
    attempt: int = Field(1, ge=1)
    not_before: str | None = None  # a retry: not to be tried before this (a Scheduler delivery comes early)
    replay: bool = False  # redriven from the dead-letter queue by an operator: start the schedule again

    @classmethod
    def new(
        cls, *, event_id: str, event: str, tenant_id: str, batch_id: str, url: str, payload: JsonObject, now: str
    ) -> WebhookMessage:
        return cls(
            event_id=event_id,
            event=event,
            tenant_id=tenant_id,
            batch_id=batch_id,
            url=url,
            payload=payload,
            created_at=now,
            attempt=1,
        )

    def retry(self, attempt: int, not_before: str) -> WebhookMessage:
        return self.again(attempt=attempt, not_before=not_before, replay=False)


class DeadWebhook(WebhookMessage):
    """A webhook event that used up its attempts, as parked in the dead-letter queue: redriven, it replays."""

    dead_lettered_at: str
    attempts_made: int
    last_status_code: int | None = None
    last_error: str | None = None

    @classmethod
    def of(cls, message: WebhookMessage, now: str, status: int | None, error: str | None) -> DeadWebhook:
        return cls.model_validate(
            {
                **message.model_dump(),
                "attempt": 1,
                "not_before": None,
                "replay": True,
                "dead_lettered_at": now,
                "attempts_made": message.attempt,
                "last_status_code": status,
                "last_error": error,
            }
        )


class ExportMessage(QueueMessage):
    """The exports queue: write a batch's executions CSV, if `token` is still the batch's current request."""

    batch_id: str
    token: str

    @classmethod
    def of(cls, batch_id: str, token: str) -> ExportMessage:
        return cls(batch_id=batch_id, token=token)


class IngestNotification(QueueMessage):
    """The ingest queue: S3's notification that objects arrived (S3 writes it; `s3:TestEvent` first)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event: str | None = Field(None, alias="Event")
    records: list[JsonObject] = Field(default_factory=list, alias="Records")

    def created(self) -> list[tuple[str, str | None]]:
        """(key, etag) of each object created; keys as S3 sent them (URL-encoded)."""
        if self.event == "s3:TestEvent":
            return []
        found = []
        for record in self.records:
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            obj = record.get("s3", {}).get("object", {})
            found.append((str(obj.get("key", "")), obj.get("eTag")))
        return found
