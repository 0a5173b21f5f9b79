"""Request and response bodies as the wire shows them: the source of the OpenAPI document.

Request bodies the handlers validate live in chalicelib/domain (AgentCreate, AgentPatch,
BatchOptions); the ones here describe what a route reads by hand (the JSON contacts, the
upload's file name, the schedule form) and every answer's shape. Response models forbid
extra keys, so the document (and schemathesis' response check) notice a field that the
public_* functions add without saying so.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain.agents import Weekday
from ..domain.batch_status import BatchStatus
from ..domain.batches import MAX_SPEND_DOC, BatchOptions, Budget
from ..domain.call_status import CallStatus
from ..domain.calling_rules import BlockedDates, BlockedRange, CallingHours
from ..domain.extraction import ExtractionField
from ..domain.json_input import JsonObject
from ..domain.provider_config import ProviderName
from ..domain.retry import RetryConfig

Timestamp = str  # ISO 8601 with an offset, e.g. 2026-11-30T10:00:00Z


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ------------------------------------------------------------------------------


class BatchCreateJson(BatchOptions):
    """`POST /batches` as JSON: the options and the contacts themselves instead of a CSV."""

    contacts: list[JsonObject] = Field(
        ...,
        description="One object per contact: `contact_number` (or `phone_number`, `phone`) and any "
        "variables, as the columns of a CSV would be.",
        examples=[[{"contact_number": "+14155552671", "customer_name": "Asha"}]],
    )


class UploadRequest(BatchOptions):
    """`POST /batches/uploads`: the batch options, and the name the file is listed under."""

    file_name: str | None = Field(None, description="Shown as the batch's `file_name`.")


class ScheduleRequest(BaseModel):
    """`POST /batches/{batch_id}/schedule`, as JSON or as form fields."""

    scheduled_at: str = Field(
        ...,
        description="ISO 8601 with `Z` or an offset (`+05:30`, written `%2B05:30` in a form body); "
        "naive or past times are a 400.",
        examples=["2026-12-01T09:30:00+05:30"],
    )
    bypass_call_guardrails: bool = Field(False, description="Call outside the agent's calling window.")
    calling_hours: CallingHours | None = Field(
        None,
        description="The batch's own weekly hours (docs/agents.md), replacing what it had; as a form field, JSON text.",
    )
    blocked_dates: BlockedDates | None = Field(
        None, description="The batch's own blocked date ranges, replacing what it had; as a form field, JSON text."
    )
    skip_public_holidays: bool | None = Field(None, description="The batch's own holiday opt-in.")
    max_spend: float | None = Field(None, ge=0.01, le=1_000_000, description=MAX_SPEND_DOC)


class ResumeRequest(Budget):
    """`POST /batches/{batch_id}/resume` (optional body): a higher budget, needed when the batch spent its own."""


# --- answers -------------------------------------------------------------------------------


class ErrorBody(Answer):
    """Every error, whatever the route: a 4xx with this body (a 5xx is a bug)."""

    message: str = Field(..., description="What went wrong, for a person.")
    code: str = Field(..., description="What went wrong, for a program (e.g. `validation_error`, `not_found`).")
    details: list[Any] = Field(
        default_factory=list,
        description="Per-field or per-row specifics; for `validation_error` `{field, message}` objects.",
    )


class Agent(Answer):
    id: str = Field(..., description="The agent's id (also `agent_id`).")
    agent_id: str
    name: str | None
    provider: ProviderName | None
    provider_config_keys: list[str] = Field(..., description="provider_config may hold secrets: only its keys.")
    welcome_message: str | None
    prompt: str | None
    from_phone_numbers: list[str] | None
    max_concurrent_calls: int | None
    calls_per_second: float | None
    call_start_hour: int | None
    call_end_hour: int | None
    call_days: list[Weekday] | None
    calling_hours: dict[Weekday, list[tuple[str, str]]] | None = Field(
        ..., description="Weekly hours; when set, the shorthand call_* fields are null."
    )
    blocked_dates: list[BlockedRange] | None
    skip_public_holidays: bool | None
    timezone: str | None
    webhook_url: str | None
    retry_config: RetryConfig | None
    monthly_max_spend: float | None = Field(..., description="The agent's budget per calendar month (UTC).")
    extraction_schema: list[ExtractionField] | None = None
    max_attempts_per_number: int | None = Field(None, description="Contact limit: attempts per number ...")
    attempt_window_days: int | None = Field(None, description="... within this many days (sliding window).")
    created_at: Timestamp | None
    updated_at: Timestamp | None


class Deleted(Answer):
    message: Literal["success"]
    state: Literal["deleted"]


class TemplateWarning(Answer):
    """A problem that does not stop the batch: a template placeholder, or a number's dropped extension."""

    code: str = Field(
        ..., description="`placeholder_without_column`, `placeholder_blank` or `number_extension_dropped`."
    )
    placeholder: str | None = Field(None, description="The placeholder (template warnings only).")
    in_: list[str] | None = Field(
        None, alias="in", description="Where the placeholder is: `welcome_message`, `prompt` (template warnings only)."
    )
    message: str
    rows: list[int] = Field(..., description="The first rows concerned.")
    row_count: int


class BatchCreated(Answer):
    batch_id: str
    state: BatchStatus
    total_contacts: int
    valid_contacts: int
    invalid_contacts: int
    duplicate_contacts: int
    suppressed_contacts: int = Field(..., description="Valid numbers skipped: on the do-not-call list (suppressions).")
    warnings: list[TemplateWarning]


class PresignedPost(Answer):
    url: str = Field(..., description="POST the file here as multipart/form-data.")
    fields: dict[str, str] = Field(..., description="Send every one of these form fields, then the file last.")


class UploadTicket(Answer):
    batch_id: str
    state: Literal["validating"]
    upload: PresignedPost
    max_bytes: int
    expires_at: Timestamp


class FailureReason(Answer):
    code: str
    message: str
    details: list[JsonObject] | None = Field(
        None, description="For `no_valid_contacts`: the first refused rows (`row`, `reason`, `value`, `message`)."
    )


class Batch(Answer):
    batch_id: str
    agent_id: str
    name: str | None
    status: BatchStatus
    created_at: Timestamp
    updated_at: Timestamp | None
    humanized_created_at: str = Field(..., description="e.g. `5 minutes ago`.")
    scheduled_at: Timestamp | None
    from_phone_numbers: list[str] | None
    file_name: str | None
    total_contacts: int | None
    valid_contacts: int | None
    invalid_contacts: int | None
    duplicate_contacts: int | None
    suppressed_contacts: int | None = Field(..., description="Valid numbers skipped: on the do-not-call list.")
    execution_status: dict[str, int] = Field(
        ...,
        description=(
            "Executions per call status (zero counts omitted); a live call (ringing, in-progress) counts as initiated."
        ),
    )
    retry_config: RetryConfig | None
    webhook_url: str | None
    status_webhook: str | None
    max_concurrent_calls: int | None
    default_region: str | None
    bypass_call_guardrails: bool | None
    calling_hours: dict[Weekday, list[tuple[str, str]]] | None = Field(
        ..., description="The batch's own weekly hours; null: the agent's."
    )
    blocked_dates: list[BlockedRange] | None = Field(..., description="The batch's own; null: the agent's.")
    skip_public_holidays: bool | None = Field(..., description="The batch's own; null: the agent's.")
    started_at: Timestamp | None
    completed_at: Timestamp | None
    stopped_at: Timestamp | None
    failure_reason: FailureReason | None = Field(..., description="Why a batch is `failed`.")
    warnings: list[TemplateWarning] | None
    max_spend: float | None = Field(..., description="The budget (see `max_spend` on create).")
    spend: float | None = Field(..., description="The cost its calls reported so far (null: none yet).")
    pause_reason: Literal["budget_reached"] | None = Field(..., description="Why the batch paused itself.")
    extraction_breakdown: dict[str, dict[str, int]] = Field(
        ...,
        description="Answers per value of each category and boolean field of the agent's extraction_schema "
        '(`{"interested": {"yes": 34, "no": 51}}`), counted as calls end.',
    )


class RowError(Answer):
    row: int = Field(..., description="1-based line of the data row (the header is row 1).")
    reason: str = Field(
        ..., description="e.g. `invalid_number`, `missing_number`, `duplicate`, `blank_row`, `suppressed`."
    )
    value: str
    message: str


class Scheduled(Answer):
    message: Literal["success"]
    state: BatchStatus
    scheduled_at: Timestamp | None


class StateChanged(Answer):
    message: Literal["success"]
    state: BatchStatus


class RetryAttempt(Answer):
    attempt: int
    execution_id: str
    status: str
    answered_by_voice_mail: bool
    ended_at: Timestamp


class ContextDetails(Answer):
    recipient_data: JsonObject = Field(..., description="The contact's columns (variables), as uploaded.")


class TelephonyData(Answer):
    """Bolna's telephony_data: the call as the phone network saw it."""

    duration: float | None = Field(
        ..., description="Seconds the line was up, as the provider reports it; else `conversation_duration`."
    )
    to_number: str | None
    from_number: str | None
    recording_url: str | None
    hosted_telephony: bool = Field(..., description="Always false: calls use the tenant's own provider account.")
    provider_call_id: str | None
    call_type: Literal["outbound"]
    provider: str | None
    hangup_by: str | None = Field(..., description="Who ended the call, as the provider reports it.")
    hangup_reason: str | None
    hangup_provider_code: int | str | None = Field(..., description="The provider's own code for the ending.")
    ring_duration: float | None = Field(
        ..., description="Seconds ringing before an answer (or before giving up): reported, else measured."
    )
    post_dial_delay: float | None = Field(
        ..., description="Seconds from placing the call to the first ring: reported, else measured."
    )


class TransferCallData(Answer):
    """Bolna's transfer_call_data: the leg a call was transferred to, as an HTTP voice agent reports it."""

    provider_call_id: Any = None
    status: Any = None
    duration: Any = None
    cost: Any = None
    to_number: Any = None
    from_number: Any = None
    recording_url: Any = None
    hangup_by: Any = None
    hangup_reason: Any = None
    hangup_provider_code: Any = None


class BatchRunDetails(Answer):
    status: CallStatus | None = Field(..., description="This attempt's status within its batch.")
    created_at: Timestamp | None
    updated_at: Timestamp | None
    retried: int = Field(..., description="Retries made before this attempt.")


class ExtractionError(Answer):
    field: str | None = Field(..., description="The extracted_data key; null when the whole report is unusable.")
    value: Any = Field(..., description="The value as reported (kept in extracted_data too).")
    message: str


class Execution(Answer):
    """One call attempt (Bolna's execution object, with the additions marked in docs/api.md)."""

    id: str
    batch_id: str
    agent_id: str | None
    status: CallStatus
    user_number: str | None
    from_number: str | None
    attempt: int | None
    retry_count: int
    retry_history: list[RetryAttempt]
    conversation_duration: float | None
    total_cost: float | None
    conversation_time: float | None = Field(..., description="Bolna's name for `conversation_duration` (seconds).")
    transcript: str | None
    summary: str | None = Field(..., description="The voice agent's summary of the call, when it gives one.")
    answered_by_voice_mail: bool
    error_message: str | None
    created_at: Timestamp | None
    updated_at: Timestamp | None
    scheduled_at: Timestamp | None
    claimed_at: Timestamp | None = Field(..., description="When the call took its live-call slot.")
    answered_at: Timestamp | None
    ended_at: Timestamp | None
    holiday_calendar: str | None = Field(
        ...,
        description="With `skip_public_holidays`: the calendar of the number's country (`US`) the call was held "
        "to; null without the opt-in or when that country has none.",
    )
    context_details: ContextDetails
    telephony_data: TelephonyData
    cost_breakdown: dict[str, float] | None = Field(
        ..., description="`total_cost` by component (llm, network, platform, synthesizer, transcriber)."
    )
    extracted_data: JsonObject | None = Field(
        ..., description="What the voice agent found out, as reported (see the agent's extraction_schema)."
    )
    extraction_errors: list[ExtractionError] = Field(
        ..., description="Reported values that do not fit the agent's extraction_schema (kept, flagged)."
    )
    transfer_call_data: TransferCallData | None
    batch_run_details: BatchRunDetails
    usage_breakdown: dict[str, Any] | None = Field(..., description="Always null: no provider reports usage yet.")


class AgentExecutions(Answer):
    """Bolna's page of an agent's call history (GET /v2/agent/{agent_id}/executions)."""

    page_number: int = Field(..., description="The page asked for (1-based).")
    page_size: int = Field(..., description="The page size asked for (at most 50).")
    total: int | None = Field(
        ..., description="How many executions match: known on the last page only (else null; use `has_more`)."
    )
    has_more: bool = Field(..., description="Whether a next page holds more executions.")
    data: list[Execution] = Field(..., description="The executions, newest first (by `created_at`).")


class LogEntry(Answer):
    """One step of a call: a status change, a provider request or its answer, a webhook attempt."""

    created_at: Timestamp | None
    type: Literal["status", "request", "response", "webhook"] | None
    component: str | None = Field(
        ..., description="Who wrote it: `dispatcher`, `dialer`, `provider_event`, `sweeper`, `webhook_sender`, `api`."
    )
    provider: str | None = Field(..., description="The phone provider, on provider requests, answers and events.")
    data: str | None = Field(..., description="A summary: no secrets, phone numbers masked to the last four digits.")
    status: CallStatus | None = Field(..., description="The status it moved to (`status` entries).")
    previous_status: CallStatus | None
    details: JsonObject = Field(..., description="What came with it (error_message, hangup_reason, ...).")
    execution_id: str = Field(..., description="The attempt it belongs to.")
    attempt: int


class ExecutionLog(Answer):
    """Bolna's `GET /executions/{id}/log` shape: the contact's attempts, oldest first, each in time order."""

    status: Literal["success"]
    data: list[LogEntry]


class ExportRedirect(Answer):
    url: str = Field(..., description="A presigned S3 GET, also in `Location`; no API key needed there.")
    expires_at: Timestamp


class ExportPreparing(Answer):
    state: Literal["preparing"]
    since: Timestamp | None
    retry_after: int = Field(..., description="Seconds to wait before asking again (also `Retry-After`).")


class WebhookSecret(Answer):
    secret: str = Field(..., description="`whsec_...`: verifies the Standard Webhooks signature.")
    created_at: Timestamp | None
    previous_secret_expires_at: Timestamp | None = Field(
        ..., description="After a rotation, the old secret still signs until then."
    )


class WebhookDelivery(Answer):
    event_id: str | None
    event: str | None
    attempt: int | None
    url_host: str | None
    outcome: str | None
    status_code: int | None
    error: str | None
    latency_ms: float | None
    attempted_at: Timestamp | None
    next_try_at: Timestamp | None


# --- the plan (GET /batches/{batch_id}/plan) ---------------------------------------------------------


class PlanWaiting(Answer):
    outside_hours: int = Field(..., description="Outside the calling hours at the start, in some zone of the number.")
    blocked_date: int = Field(..., description="The start falls on a blocked local date.")
    holiday: int = Field(..., description="The start falls on a public holiday of the recipient's country.")
    suppressed: int = Field(
        ..., description="On the do-not-call list (added after upload) at its first possible dial: never called."
    )
    contact_limit: int = Field(
        ...,
        description="Over the agent's contact limit (max_attempts_per_number, earlier batches' calls) at its first "
        "possible dial: it waits for the window to free a slot, or is never called when that is more than "
        "CONTACT_LIMIT_MAX_WAIT_HOURS away (`contact_limited`).",
    )
    no_open_time: int = Field(
        ..., description="No time inside the calling hours in every zone of the number: the dialer ends it `error`."
    )


class PlanContacts(Answer):
    planned: int = Field(..., description="Contacts not yet handed to the dialer: the ones this plan covers.")
    already_dispatched: int = Field(..., description="Contacts a running or paused batch already handed over.")
    callable_at_start: int
    waiting: PlanWaiting = Field(..., description="Contacts that cannot be called at the start, by reason.")


class PlanBucket(Answer):
    start: Timestamp
    contacts: int = Field(..., description="Contacts whose first possible dial falls in this bucket.")


class PlanHistogram(Answer):
    bucket_seconds: int
    buckets: list[PlanBucket]


class PlanProjection(Answer):
    first_dial_at: Timestamp | None
    last_dial_at: Timestamp | None
    completion_at: Timestamp | None = Field(..., description="When the last projected call ends.")
    duration_seconds: float | None = Field(..., description="From the first dial to completion.")
    attempts: int = Field(..., description="Calls placed, retries included.")
    answered: int
    retries: int
    never_dialled: int
    peak_live_calls: int
    mean_live_calls: float = Field(..., description="Time-averaged live calls from first dial to completion.")
    talk_minutes: float
    cost: float = Field(..., description="Talk minutes times price_per_minute.")


class PlanAssumptions(Answer):
    live_call_limit: int = Field(..., description="The agent's max_concurrent_calls, or the batch's lower cap.")
    calls_per_second: float | None = Field(..., description="The agent's pacing; null: unpaced.")
    retry_config: RetryConfig | None
    bypass_call_guardrails: bool
    mean_call_seconds: float
    answer_rate: float
    price_per_minute: float
    ring_seconds: float
    sources: dict[str, str] = Field(
        ...,
        description="Where each assumption came from: `query`, `agent_history` (the agent's finished calls), "
        "`agent_provider_config` (its cost_per_minute) or `default`.",
    )


class BatchPlan(Answer):
    batch_id: str
    status: BatchStatus
    computed_at: Timestamp
    start_at: Timestamp = Field(..., description="The batch's scheduled start, or now when that is past or unset.")
    contacts: PlanContacts
    first_dial_histogram: PlanHistogram
    projection: PlanProjection
    assumptions: PlanAssumptions
    method: str = Field(..., description="How the numbers were computed, in words.")


class Suppression(Answer):
    """A do-not-call entry: the number is never dialled while it is in force."""

    number: str = Field(..., description="E.164, normalised as batch contacts are.")
    reason: str | None
    source: Literal["api", "csv", "call_opt_out", "provider"]
    added_by: str | None = Field(..., description="The label of the API key that added it (none for opt-outs).")
    created_at: Timestamp
    expires_at: Timestamp | None = Field(..., description="After this the entry no longer suppresses (then: 404).")
    execution_id: str | None = Field(..., description="For `call_opt_out`: the call in which the person opted out.")


class SuppressionsAdded(Answer):
    added: int = Field(..., description="Numbers added (or renewed: adding again replaces reason and expiry).")
    invalid_numbers: int
    duplicate_numbers: int
    errors: list[RowError] = Field(..., description="The first 100 refused rows, as a batch's `/errors` lists them.")


class Erasure(Answer):
    """`POST /erasures` (202) and `GET /erasures/{erasure_id}`: an erasure request and its progress."""

    id: str
    status: Literal["running", "completed"] = Field(
        ..., description="`running` while executions remain (live calls are erased once they end); then `completed`."
    )
    phone_number: str = Field(..., description="The number, masked (the full number is never stored here).")
    suppress: bool = Field(..., description="Whether the request asked to keep the number suppressed.")
    suppressed: bool = Field(..., description="Whether the number is on the tenant's do-not-call list because of it.")
    executions_erased: int = Field(..., description="Executions whose personal data this request removed.")
    calls_canceled: int = Field(..., description="Calls of the number not yet placed, canceled by this request.")
    live_calls: int = Field(..., description="Calls in progress at the last pass, erased once they end.")
    requested_at: Timestamp
    completed_at: Timestamp | None


class AuditEntry(Answer):
    """One change an API key made (`GET /audit`); entries are never edited or deleted."""

    id: str
    action: str = Field(..., description="e.g. `batch.created`, `batch.stopped`, `agent.updated`, `erasure.requested`.")
    target: str = Field(
        ..., description="`<kind>:<id>` (`batch:…`, `agent:…`, `erasure:…`, `suppression:<masked number>`) or a kind."
    )
    key_label: str | None = Field(..., description="The label of the API key that made the change.")
    request_id: str | None = Field(..., description="The request's id (`X-Request-Id`; API Gateway's `requestId`).")
    at: Timestamp
