"""The stored records (agent, tenant, batch, execution) as typed models; the stores convert them to and from items.

Reading a record never re-runs the API's input rules (SSRF, E.164, ...): what is stored was checked when it was
written, so these models only give it a shape. Every field but the keys is optional, as older items may lack it.
"""

from __future__ import annotations

from typing import Any, NotRequired

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import TypedDict

from .batch_status import BatchStatus
from .call_status import CallStatus
from .extraction import TALLY_PREFIX, ExtractionError, StoredField
from .json_input import JsonObject
from .retry import RetryConfig
from .timeline import Entry
from .timeline_codec import unpack


class StoredContact(TypedDict):
    """One valid contact as a contacts chunk holds it (one JSON line each, short keys: millions are stored)."""

    i: int  # its index among the batch's valid contacts
    row: int  # the CSV row, for people
    n: str  # the number, E.164
    v: JsonObject  # its other columns (the template variables): the user's, free-form
    z: NotRequired[str]  # its candidate zones, phonenumbers' answer comma-joined (calling_window.contact_zones)


class Record(BaseModel):
    """Base of the stored records; `to_item()` is the item to store: only the fields given, None left out."""

    # Attributes a record does not name yet are kept, not dropped: a field added to an API model (agents,
    # batches) is stored and read back even before it is declared here, where it should then be typed.
    model_config = ConfigDict(extra="allow")

    def to_item(self) -> JsonObject:
        return self.model_dump(mode="json", exclude_none=True, exclude_unset=True)


class Agent(Record):
    """A voice agent: who places a tenant's calls, how, and when."""

    tenant_id: str
    agent_id: str
    name: str | None = None
    provider: str = "simulator"
    provider_config: JsonObject | None = None
    welcome_message: str | None = None
    prompt: str | None = None
    from_phone_numbers: list[str] | None = None
    max_concurrent_calls: int | None = None
    calls_per_second: int | float | None = None  # kept as stored: 1 stays 1, not 1.0
    call_start_hour: int | None = None
    call_end_hour: int | None = None
    call_days: list[str] | None = None
    calling_hours: dict[str, list[list[str]]] | None = None  # weekly hours; when set, the call_* shorthand is None
    blocked_dates: list[dict[str, str]] | None = None  # {"start", "end"} local dates
    skip_public_holidays: bool | None = None
    timezone: str | None = None
    webhook_url: str | None = None
    retry_config: RetryConfig | None = None
    monthly_max_spend: int | float | None = None  # budget per calendar month (services/budget.py)
    extraction_schema: list[StoredField] | None = None
    max_attempts_per_number: int | None = None  # the per-number contact limit (domain/contact_limits.py)
    attempt_window_days: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Tenant(Record):
    """A tenant's webhook signing secrets (current, and the previous one during a rotation) and disabled endpoints."""

    tenant_id: str
    webhook_secret: str | None = None
    webhook_secret_created_at: str | None = None
    previous_webhook_secret: str | None = None
    previous_secret_expires_at: str | None = None
    disabled_endpoints: set[str] = set()


class Batch(Record):
    """A batch: its options, its counters (kept with atomic ADDs) and where its dispatch and cancel walks are."""

    batch_id: str
    tenant_id: str
    agent_id: str
    status: BatchStatus
    name: str | None = None
    created_at: str = ""
    updated_at: str = ""
    file_name: str | None = None
    from_phone_numbers: list[str] = []
    webhook_url: str | None = None
    status_webhook: str | None = None
    retry_config: RetryConfig | None = None
    max_concurrent_calls: int | None = None
    default_region: str | None = None
    bypass_call_guardrails: bool = False
    calling_hours: dict[str, list[list[str]]] | None = None  # the batch's own calling rules (None: the agent's)
    blocked_dates: list[dict[str, str]] | None = None
    skip_public_holidays: bool | None = None
    requested_start: str | None = None  # a start asked for at upload, applied once the file is read
    # counters
    next_pos: int = 0  # contacts handed to dispatch so far
    dispatched: int = 0
    finished: int = 0
    unreached: int = 0  # never dialled: canceled by a stop
    live: int = 0
    counter_shards: int = 0  # the per-call counters' shard items, summed in on read (store/batches.py)
    co_key: str | None = None  # the agent whose live-call shards hold the per-call counters (store/batches.py)
    execution_status: dict[str, int] = {}
    total_contacts: int = 0
    valid_contacts: int = 0
    invalid_contacts: int = 0
    duplicate_contacts: int = 0
    suppressed_contacts: int = 0  # valid numbers skipped: on the tenant's do-not-call list
    # what the file held
    blank_rows: int | None = None
    columns: list[str] | None = None
    number_column: str | None = None
    encoding: str | None = None
    chunk_size: int = 0
    chunk_count: int | None = None
    raw_key: str | None = None
    warnings: list[JsonObject] | None = None
    failure_reason: JsonObject | None = None
    # lifecycle
    scheduled_at: str | None = None
    start_token: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    stopped_at: str | None = None
    deleted_at: str | None = None
    purged_at: str | None = None  # the purge walk of a deleted batch finished: a tombstone
    settled_at: str | None = None
    settle_after: str | None = None
    active: str | None = None  # "1" while in the sweeper's index (by_status)
    # the budget (services/budget.py); cost and call history counters kept with the outcome's ADDs
    max_spend: int | float | None = None
    spend: int | float | None = None
    talk_seconds: int | float | None = None
    answered_calls: int | None = None
    ended_calls: int | None = None
    pause_reason: str | None = None  # budget_reached, agent_budget_reached
    paused_at: str | None = None
    # the one background CSV export
    csv_export_token: str | None = None
    csv_export_started_at: str | None = None
    csv_export: JsonObject | None = None
    # the extraction breakdown: one top-level counter per field and value (`xb#<field>#<value>`), kept with
    # atomic ADDs like execution_status; read here, never written back from the record
    extraction_tallies: dict[str, int] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _tallies(cls, data: Any) -> Any:
        if isinstance(data, dict) and "extraction_tallies" not in data:
            tallies = {k: v for k, v in data.items() if isinstance(k, str) and k.startswith(TALLY_PREFIX)}
            if tallies:
                data = {**data, "extraction_tallies": tallies}
        return data


class TransferCall(TypedDict, total=False):
    """Bolna's transfer_call_data: the leg a call was transferred to, its documented keys only, values as reported."""

    provider_call_id: Any
    status: Any
    duration: Any
    cost: Any
    to_number: Any
    from_number: Any
    recording_url: Any
    hangup_by: Any
    hangup_reason: Any
    hangup_provider_code: Any


class Execution(Record):
    """One call attempt of one contact; Bolna's execution object is made from it (domain/batches.public_execution)."""

    execution_id: str
    batch_id: str
    tenant_id: str
    agent_id: str
    status: CallStatus
    seq: str = ""  # contact then attempt, zero-padded: the by_batch index's sort key
    contact_index: int = 0
    row: int | None = None  # the CSV row, for people
    user_number: str = ""
    number_key: str | None = None  # the by_number_keys index's key (a hash of tenant and number); gone once erased
    from_number: str | None = None
    attempt: int = 1
    retry_count: int = 0
    recipient_data: JsonObject = {}  # the contact's columns: the user's, free-form
    retry_history: list[JsonObject] | None = None
    created_at: str = ""
    updated_at: str = ""
    scheduled_at: str | None = None
    # the call
    provider: str | None = None
    provider_call_id: str | None = None
    claimed_at: str | None = None
    placed_at: str | None = None
    answered_at: str | None = None
    ended_at: str | None = None
    conversation_duration: int | float | None = None  # kept as stored: 30 stays 30, not 30.0
    total_cost: int | float | None = None
    transcript: str | None = None
    answered_by_voice_mail: bool | None = None
    hangup_reason: str | None = None
    recording_url: str | None = None
    error_message: str | None = None
    # Bolna's richer execution object (domain/batches.public_execution): what the provider reported
    summary: str | None = None
    extracted_data: JsonObject | None = None  # as reported: the user's schema, not ours, gives it keys
    extraction_errors: list[ExtractionError] | None = None
    cost_breakdown: dict[str, int | float] | None = None
    transfer_call_data: TransferCall | None = None
    hangup_by: str | None = None
    hangup_provider_code: int | str | None = None
    ring_duration: int | float | None = None
    post_dial_delay: int | float | None = None
    telephony_duration: int | float | None = None
    ringing_at: str | None = None  # the first ring: ring_duration and post_dial_delay when not reported
    late_details_at: str | None = None  # a second final report brought details (call.updated)
    holiday_calendar: str | None = None  # with skip_public_holidays: the calendar the call was held to
    opted_out: bool | None = None  # the person asked not to be called again (never retried)
    erased_at: str | None = None  # an erasure removed its personal data (services/erasures.py)
    # bookkeeping
    superseded_by: str | None = None  # the retry that replaced this attempt
    open_shard: str | None = None  # set while a provider owes a final status (the by_open index)
    wake_shard: str | None = None  # set while `rescheduled` (the by_wake index: a lost wake-up is re-armed)
    place_token: str | None = None  # a re-queued placement's one-time token
    wait_token: str | None = None  # the live copy of a waiting call's message (DialMessage.live_wait)
    callbacks: set[str] | None = None  # provider callbacks received (replays are refused)
    timeline: list[Entry] | None = None  # the call's log entries: those stored as maps (before), then `tl`'s

    @model_validator(mode="before")
    @classmethod
    def _merged_timeline(cls, data: Any) -> Any:
        """The timeline read back whole: entries an item stored as maps (`timeline`, before entries were
        packed), then its packed ones (`tl`, timeline_codec.py), in the order they were written."""
        if isinstance(data, dict) and data.get("tl") is not None:
            packed = data["tl"]
            data = {k: v for k, v in data.items() if k != "tl"}
            data["timeline"] = [*(data.get("timeline") or []), *(unpack(p) for p in packed)]
        return data
