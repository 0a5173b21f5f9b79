"""The API's OpenAPI 3.1 document, built from the operation table below and the pydantic body models.

The table names every route with its answers; tests/unit/api/test_openapi.py fails when a
Chalice route is missing here, when an operation here has no route, or when a success status
is not one its handler answers. Schemas come from the same models the handlers validate with
(chalicelib/domain) and from chalicelib/api/bodies.py for the answers.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from ..domain.agents import AgentCreate, AgentPatch
from ..domain.batches import BatchOptions
from ..domain.call_status import CallStatus
from ..domain.erasures import ErasureRequest
from ..domain.suppressions import SuppressionRequest
from ..errors import ServiceError
from . import bodies

REF = "#/components/schemas/{model}"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
API_VERSION = "1.0.0"

# A piece of the OpenAPI document (a schema, an operation, a response, the document itself): JSON whose shape
# is OpenAPI's, built here and served as is, so it stays an open object rather than a model of the spec.
Spec = dict[str, Any]


@dataclass(frozen=True)
class Link:
    operation_id: str
    parameter: str
    expression: str  # a runtime expression, e.g. $response.body#/batch_id


@dataclass(frozen=True)
class Reply:
    """One success answer: a model, a list of a model (`many`), CSV text, or no body."""

    status: int
    description: str
    body: type[BaseModel] | None = None
    many: bool = False
    csv: bool = False
    headers: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()  # operations that can take a value from this answer (schemathesis' stateful phase)


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    schema: Spec


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    replies: tuple[Reply, ...]
    errors: tuple[int, ...]
    description: str = ""
    json_body: type[BaseModel] | None = None
    form_body: str | None = None  # a key of FORMS: the same route also reads form fields
    free_body: tuple[str, ...] = ()  # content types of a body we document as a free-form object
    query: tuple[Query, ...] = ()
    public: bool = False
    params: dict[str, str] = field(default_factory=dict)  # path parameter -> description


LIMIT = Query("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500})
CURSOR = Query("cursor", "Opaque: the `X-Next-Cursor` header of the previous page.", {"type": "string"})
BATCH = {"batch_id": "The batch's id (`batch_id` of POST /batches)."}
AGENT = {"agent_id": "The agent's id."}
NUMBER = {"number": "The number in E.164, URL-encoded (`%2B14155552671`)."}
LIFECYCLE = (401, 404, 409)
BATCH_OPERATIONS = (
    "getBatch", "listRowErrors", "scheduleBatch", "runBatch", "stopBatch", "pauseBatch", "resumeBatch",
    "listExecutions", "exportExecutions", "listWebhookDeliveries", "deleteBatch", "getBatchPlan", "exportBatchPlan",
)  # fmt: skip
TO_BATCH = tuple(Link(op, "batch_id", "$response.body#/batch_id") for op in BATCH_OPERATIONS)
TO_AGENT = (
    *(Link(op, "agent_id", "$response.body#/id") for op in ("getAgent", "updateAgent", "deleteAgent")),
    Link("listAgentBatches", "batch_id", "$response.body#/id"),
)
STATE_CHANGED = (Reply(200, "The batch's new state.", bodies.StateChanged),)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST", "/agents", "createAgent", "agents", "Create an agent",
        (Reply(201, "The agent.", bodies.Agent, links=TO_AGENT),), (400, 401), json_body=AgentCreate,
        description="A new agent calls only between `call_start_hour` (9) and `call_end_hour` (21) in the "
        "recipient's local time unless you set them; see docs/agents.md.",
    ),
    Operation("GET", "/agents", "listAgents", "agents", "List the tenant's agents",
              (Reply(200, "Every agent of the tenant.", bodies.Agent, many=True),), (401,)),
    Operation("GET", "/agents/{agent_id}", "getAgent", "agents", "Read an agent",
              (Reply(200, "The agent.", bodies.Agent),), (401, 404), params=AGENT),
    Operation("PATCH", "/agents/{agent_id}", "updateAgent", "agents", "Change some of an agent's fields",
              (Reply(200, "The agent.", bodies.Agent),), (400, 401, 404), json_body=AgentPatch, params=AGENT),
    Operation("DELETE", "/agents/{agent_id}", "deleteAgent", "agents", "Delete an agent",
              (Reply(200, "Deleted.", bodies.Deleted),), (401, 404, 409), params=AGENT,
              description="409 `agent_in_use` while any of the agent's batches is not stopped, completed or failed."),
    Operation(
        "POST", "/batches", "createBatch", "batches", "Create a batch from a CSV (or JSON contacts)",
        (Reply(201, "The batch, with its contact counts.", bodies.BatchCreated, links=TO_BATCH),),
        (400, 401, 404, 413, 415),
        json_body=bodies.BatchCreateJson, form_body="batch",
        description="Bolna's `POST /batches`: multipart `file` plus the options, or JSON `contacts`. Bodies "
        "over MAX_SYNC_UPLOAD_BYTES (4 MiB) are a 413: use POST /batches/uploads.",
    ),
    Operation(
        "POST", "/batches/uploads", "createUpload", "batches", "Create a batch from a large file (presigned upload)",
        (Reply(201, "A batch in `validating` and where to POST its file.", bodies.UploadTicket, links=TO_BATCH),),
        (400, 401, 404, 413, 415), json_body=bodies.UploadRequest, form_body="upload",
    ),
    Operation("GET", "/batches/{batch_id}", "getBatch", "batches", "Read a batch",
              (Reply(200, "The batch.", bodies.Batch),), (401, 404), params=BATCH),
    Operation("DELETE", "/batches/{batch_id}", "deleteBatch", "batches", "Delete a batch (stops it first)",
              (Reply(200, "Deleted.", bodies.Deleted),), (401, 404, 409), params=BATCH),
    Operation(
        "GET", "/batches/{batch_id}/all", "listAgentBatches", "batches", "List an agent's batches, newest first",
        (Reply(200, "The agent's batches.", bodies.Batch, many=True),), (401, 404),
        description="Bolna's `GET /batches/{agent_id}/all`: the path parameter is an **agent** id (API Gateway "
        "needs sibling path variables to share one name).",
        params={"batch_id": "The **agent's** id."},
    ),
    Operation(
        "GET", "/batches/{batch_id}/errors", "listRowErrors", "batches", "The rows that were skipped, and why",
        (Reply(200, "One entry per skipped row, in file order.", bodies.RowError, many=True,
               headers=("X-Next-Cursor",)),),
        (400, 401, 404), params=BATCH,
        query=(
            Query("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}),
            CURSOR,
        ),
    ),
    Operation(
        "POST", "/batches/{batch_id}/schedule", "scheduleBatch", "batches", "Schedule a batch",
        (Reply(200, "Scheduled.", bodies.Scheduled),), (400, *LIFECYCLE, 413, 415),
        json_body=bodies.ScheduleRequest, form_body="schedule", params=BATCH,
    ),
    Operation("POST", "/batches/{batch_id}/run", "runBatch", "batches", "Start a batch now",
              (Reply(200, "Started.", bodies.Scheduled),), LIFECYCLE, params=BATCH),
    Operation("POST", "/batches/{batch_id}/stop", "stopBatch", "batches", "Stop a batch for good",
              STATE_CHANGED, LIFECYCLE, params=BATCH),
    Operation("POST", "/batches/{batch_id}/pause", "pauseBatch", "batches", "Pause a running batch",
              STATE_CHANGED, LIFECYCLE, params=BATCH),
    Operation("POST", "/batches/{batch_id}/resume", "resumeBatch", "batches", "Resume a paused batch",
              STATE_CHANGED, (400, *LIFECYCLE, 413, 415), params=BATCH, json_body=bodies.ResumeRequest,
              description="A batch that paused itself at its budget (`pause_reason: budget_reached`) resumes only "
              "with a higher `max_spend` in the body: without one it is a 409 `budget_reached`, and one not above "
              "the recorded `spend` a 409 `budget_too_low`."),
    Operation(
        "GET", "/batches/{batch_id}/executions", "listExecutions", "executions", "A batch's executions (paged)",
        (Reply(200, "A bare array of executions, as Bolna answers.", bodies.Execution, many=True,
               headers=("X-Next-Cursor",), links=(Link("getExecution", "execution_id", "$response.body#/0/id"),)),),
        (400, 401, 404), params=BATCH,
        query=(LIMIT, CURSOR, Query("status", "Only executions in this call status.",
                                    {"type": "string", "enum": [s.value for s in CallStatus]})),
    ),
    Operation(
        "GET", "/batches/{batch_id}/executions.csv", "exportExecutions", "executions", "A batch's results as CSV",
        (
            Reply(200, "The CSV (small batches), one row per contact.", csv=True, headers=("Content-Disposition",)),
            Reply(202, "A large export is being written: ask again after `Retry-After` seconds.",
                  bodies.ExportPreparing, headers=("Retry-After", "Location")),
            Reply(303, "The CSV is at `Location`, a presigned S3 URL (`curl -L` follows it).",
                  bodies.ExportRedirect, headers=("Location",)),
        ),
        (401, 404), params=BATCH,
    ),
    Operation(
        "GET", "/batches/{batch_id}/plan", "getBatchPlan", "batches", "When each contact can be called; a projection",
        (Reply(200, "The plan; no call is placed.", bodies.BatchPlan),), (400, 401, 404, 409), params=BATCH,
        description="For a created, scheduled, running or paused batch (else 409 `invalid_state`): contacts callable "
        "at the start and waiting by reason, a histogram of first possible dial times, and a projection of "
        "first and last dial, completion, live calls and cost. Assumptions not given here come from the agent's "
        "finished-call history (when it has 50 finished calls), else the defaults shown.",
        query=(
            Query("mean_call_seconds", "Talk time of an answered call.",
                  {"type": "number", "minimum": 1, "maximum": 7200, "default": 60}),
            Query("answer_rate", "Share of calls answered.", {"type": "number", "minimum": 0, "maximum": 1,
                                                               "default": 0.6}),
            Query("price_per_minute", "Price of a minute of talk (default: the agent's cost_per_minute, else 0.05).",
                  {"type": "number", "minimum": 0, "maximum": 100}),
            Query("ring_seconds", "Dial to answer or giving up.",
                  {"type": "number", "minimum": 0, "maximum": 600, "default": 20}),
        ),
    ),
    Operation(
        "GET", "/batches/{batch_id}/plan.csv", "exportBatchPlan", "batches", "Each contact's first possible dial (CSV)",
        (
            Reply(200, "`contact_number,row,first_dial_at,reason` for each contact not yet dispatched.", csv=True,
                  headers=("Content-Disposition",)),
            Reply(303, "A large plan is at `Location`, a presigned S3 URL.", bodies.ExportRedirect,
                  headers=("Location",)),
        ),
        (401, 404, 409), params=BATCH,
    ),
    Operation("GET", "/executions/{execution_id}", "getExecution", "executions", "Read one execution",
              (Reply(200, "The execution.", bodies.Execution),), (401, 404),
              params={"execution_id": "The execution's `id`."}),
    Operation(
        "GET", "/v2/agent/{agent_id}/executions", "listAgentExecutions", "executions",
        "An agent's call history, newest first (Bolna's paging)",
        (Reply(200, "One page: `page_number`, `page_size`, `total`, `has_more`, `data`.", bodies.AgentExecutions),),
        (400, 401, 404), params=AGENT,
        description="Bolna's agent executions. Pages by number: `page_number * page_size` must be at most "
        "10,000 (400 `history_too_deep`: narrow with `from` / `to`). Executions created while you page move "
        "newest-first pages along: pass `to` for a stable walk.",
        query=(
            Query("page_number", "The page, from 1.", {"type": "integer", "minimum": 1, "default": 1}),
            Query("page_size", "Executions per page.", {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}),
            Query("batch_id", "Only this batch's executions.", {"type": "string"}),
            Query("status", "Only executions in this call status.",
                  {"type": "string", "enum": [s.value for s in CallStatus]}),
            Query("from", "Only executions created at or after this time (ISO 8601 with Z or an offset).",
                  {"type": "string", "format": "date-time"}),
            Query("to", "Only executions created at or before this time (ISO 8601 with Z or an offset).",
                  {"type": "string", "format": "date-time"}),
        ),
    ),
    Operation("GET", "/executions/{execution_id}/log", "getExecutionLog", "executions", "A call's timeline",
              (Reply(200, "Every status change, provider request and answer, and webhook attempt of the contact's "
                          "attempts, oldest attempt first.", bodies.ExecutionLog),), (401, 404),
              params={"execution_id": "The `id` of any attempt of the call."}),
    Operation("GET", "/webhooks/secret", "getWebhookSecret", "webhooks", "The tenant's webhook signing secret",
              (Reply(200, "The secret.", bodies.WebhookSecret),), (401,)),
    Operation("POST", "/webhooks/secret/rotate", "rotateWebhookSecret", "webhooks", "Rotate the signing secret",
              (Reply(200, "The new secret; the old one still signs for a while.", bodies.WebhookSecret),), (401,)),
    Operation(
        "GET", "/batches/{batch_id}/webhooks", "listWebhookDeliveries", "webhooks", "A batch's webhook attempts",
        (Reply(200, "Every delivery attempt, oldest first.", bodies.WebhookDelivery, many=True,
               headers=("X-Next-Cursor",)),),
        (400, 401, 404), params=BATCH, query=(LIMIT, CURSOR),
    ),
    Operation(
        "POST", "/erasures", "createErasure", "erasures", "Erase one number from every execution of the tenant",
        (Reply(202, "Accepted: the erasure runs in the background; poll GET /erasures/{erasure_id}.", bodies.Erasure,
               links=(Link("getErasure", "erasure_id", "$response.body#/id"),)),),
        (400, 401), json_body=ErasureRequest,
        description="Removes the number's recipient data, transcripts and recording URLs from every execution "
        "of the tenant (the number is masked), cancels its calls not yet placed, and erases live calls once they "
        "end. Idempotent: asking again erases what appeared since, and nothing twice.",
    ),
    Operation("GET", "/erasures/{erasure_id}", "getErasure", "erasures", "An erasure's progress",
              (Reply(200, "The erasure.", bodies.Erasure),), (401, 404),
              params={"erasure_id": "The erasure's `id`."}),
    Operation(
        "GET", "/audit", "listAudit", "audit", "The tenant's audit log, newest first (paged)",
        (Reply(200, "One entry per change an API key made.", bodies.AuditEntry, many=True,
               headers=("X-Next-Cursor",)),),
        (400, 401),
        query=(LIMIT, CURSOR, Query("target", "Only this target's entries, e.g. `batch:<batch_id>`.",
                                    {"type": "string", "maxLength": 300})),
    ),
    Operation(
        "POST", "/providers/{name}/events", "providerCallback", "providers", "A phone provider's status callback",
        (Reply(204, "Accepted: the events are queued."),), (403, 404),
        description="Called by Twilio (`X-Twilio-Signature`) or an HTTP voice agent (Standard Webhooks "
        "signature), never by API clients: no API key, the provider's signature is the credential. "
        "Anything not signed for this call is a 403.",
        free_body=(FORM, JSON), public=True,
        params={"name": "`twilio` or `http`."},
        query=(Query("execution_id", "The call this callback is for (we put it in the callback URL).",
                     {"type": "string"}),),
    ),
    Operation(
        "POST", "/suppressions", "addSuppressions", "suppressions", "Add numbers to the do-not-call list",
        (Reply(201, "What was added and which rows were refused.", bodies.SuppressionsAdded),),
        (400, 401, 413, 415), json_body=SuppressionRequest, free_body=(MULTIPART,),
        description="JSON (`number` or `numbers`, up to 10,000), or multipart with a CSV `file` (a number column, "
        "as in batch files) and optional `reason`, `expires_at`, `default_region` fields. Numbers follow the batch "
        "contacts' rules. A suppressed number is skipped when a batch is created and never dialled.",
    ),
    Operation(
        "GET", "/suppressions", "listSuppressions", "suppressions", "The do-not-call list (paged)",
        (Reply(200, "Entries in force, in number order.", bodies.Suppression, many=True, headers=("X-Next-Cursor",)),),
        (400, 401),
        query=(LIMIT, CURSOR, Query("source", "Only entries from this source.",
                                    {"type": "string", "enum": ["api", "csv", "call_opt_out", "provider"]})),
    ),
    Operation("GET", "/suppressions/{number}", "getSuppression", "suppressions", "Read one number's entry",
              (Reply(200, "The entry.", bodies.Suppression),), (400, 401, 404), params=NUMBER),
    Operation("DELETE", "/suppressions/{number}", "deleteSuppression", "suppressions", "Take a number off the list",
              (Reply(200, "Deleted.", bodies.Deleted),), (400, 401, 404), params=NUMBER),
    Operation(
        "GET", "/openapi.json", "openapi", "reference", "This document (OpenAPI 3.1)",
        (Reply(200, "The OpenAPI document."),), (), public=True,
    ),
    Operation(
        "GET", "/docs", "docs", "reference", "This document for people (HTML)",
        (Reply(200, "An HTML page rendering /openapi.json (no external resources)."),), (), public=True,
    ),
    Operation(
        "GET", "/", "root", "dashboard", "Redirects to the dashboard",
        (Reply(302, "`Location: dashboard`.", headers=("Location",)),), (), public=True,
    ),
    Operation(
        "GET", "/dashboard", "dashboard", "dashboard", "The web dashboard (HTML; its data calls need the key)",
        (Reply(200, "The dashboard page, under a strict Content-Security-Policy."),
         Reply(304, "Unchanged since the `If-None-Match` ETag.")), (), public=True,
    ),
    Operation(
        "GET", "/dashboard/{file}", "dashboardAsset", "dashboard", "One of the dashboard's scripts, styles or icons",
        (Reply(200, "The file (JavaScript, CSS or SVG)."), Reply(304, "Unchanged since the `If-None-Match` ETag.")),
        (404,), public=True, params={"file": "A file name such as `app.js`."},
    ),
)  # fmt: skip

HEADERS: dict[str, Spec] = {
    "X-Next-Cursor": {
        "description": "Present when there is a next page: pass it as `?cursor=`.",
        "schema": {"type": "string"},
    },
    "Retry-After": {"description": "Seconds to wait before asking again.", "schema": {"type": "string"}},
    "Location": {"description": "Where to go next.", "schema": {"type": "string"}},
    "Content-Disposition": {"description": "`attachment; filename=...`.", "schema": {"type": "string"}},
}

ERRORS: dict[int, str] = {
    400: "Invalid input: `details` names each field (`validation_error`) or the problem.",
    401: "No or an invalid API key (`Authorization: Bearer <key>`).",
    403: "Refused (e.g. a callback not signed for this call).",
    404: "No such resource for this tenant (another tenant's is a 404 too).",
    409: "Not possible in the batch's current state.",
    413: "The body is too large for this route.",
    415: "Unsupported Content-Type.",
    503: "AWS is busy (a throttle, or a batch's calls holding its items): nothing changed; try again after "
    "`Retry-After` seconds (`try_again`).",
}
# Every operation that reads or writes AWS may meet a throttle after the SDK's own retries (chalicelib/aws.py).
BUSY = 503

PATH_PARAM = re.compile(r"{(\w+)}")


def error_statuses() -> set[int]:
    """Every status a ServiceError maps to: the only error statuses an operation may document."""
    found: set[int] = set()
    pending: list[type[ServiceError]] = [ServiceError]
    while pending:
        cls = pending.pop()
        found.add(cls.status)
        pending.extend(cls.__subclasses__())
    return found


def _form_schema(kind: str, defs: Spec) -> Spec:
    """Form fields carry the same options as JSON, except that nested objects are JSON text."""
    if kind == "schedule":
        return {"$ref": REF.format(model="ScheduleRequest")}
    options = copy.deepcopy(defs["BatchOptions"])
    properties = options["properties"]
    properties["retry_config"] = {"type": "string", "description": "A retry_config object as JSON text."}
    for rule in ("calling_hours", "blocked_dates"):  # the calling rules' objects travel as JSON text too
        properties[rule] = {"type": "string", "maxLength": 20000, "description": f"{rule} as JSON text."}
    properties["from_phone_numbers"]["description"] = "Repeat the field, or send a JSON array or a comma list."
    if kind == "batch":
        properties["file"] = {"type": "string", "format": "binary", "contentMediaType": "text/csv"}
        options["required"] = [*options.get("required", []), "file"]
        options["description"] = "The batch options as form fields, and the CSV as `file`."
    else:
        properties["file_name"] = defs["UploadRequest"]["properties"]["file_name"]
        options["description"] = "The batch options as form fields."
    options.pop("title", None)
    return options


def _content(schema: Spec) -> Spec:
    return {JSON: {"schema": schema}}


def _reply(reply: Reply) -> Spec:
    out: Spec = {"description": reply.description}
    if reply.body is not None:
        ref = {"$ref": REF.format(model=reply.body.__name__)}
        out["content"] = _content({"type": "array", "items": ref} if reply.many else ref)
    elif reply.csv:
        out["content"] = {"text/csv": {"schema": {"type": "string"}}}
    if reply.headers:
        out["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in reply.headers}
    if reply.links:
        out["links"] = {
            link.operation_id: {"operationId": link.operation_id, "parameters": {link.parameter: link.expression}}
            for link in reply.links
        }
    return out


def _operation(op: Operation, defs: Spec) -> Spec:
    out: Spec = {"operationId": op.operation_id, "tags": [op.tag], "summary": op.summary}
    if op.description:
        out["description"] = op.description
    parameters: list[Spec] = [
        {"name": name, "in": "path", "required": True, "description": op.params.get(name, ""),
         "schema": {"type": "string", "minLength": 1}}
        for name in PATH_PARAM.findall(op.path)
    ]  # fmt: skip
    parameters += [{"name": q.name, "in": "query", "description": q.description, "schema": q.schema} for q in op.query]
    if parameters:
        out["parameters"] = parameters
    content: Spec = {}
    if op.json_body is not None:
        content[JSON] = {"schema": {"$ref": REF.format(model=op.json_body.__name__)}}
    if op.form_body is not None:
        schema = _form_schema(op.form_body, defs)
        content[MULTIPART] = {"schema": schema}
        if op.form_body != "batch":
            content[FORM] = {"schema": schema}
    for media in op.free_body:
        content[media] = {"schema": {"type": "object", "additionalProperties": True}}
    if content:
        out["requestBody"] = {"required": op.json_body is not None or op.form_body == "batch", "content": content}
    responses = {str(reply.status): _reply(reply) for reply in op.replies}
    errors = (*op.errors, BUSY) if _reaches_aws(op) else op.errors
    responses.update({str(status): {"$ref": f"#/components/responses/{status}"} for status in errors})
    out["responses"] = responses
    if op.public:
        out["security"] = []
    return out


def _reaches_aws(op: Operation) -> bool:
    """Keyed routes (the key is read from DynamoDB) and the providers' callbacks; not the static documents."""
    return not op.public or op.operation_id == "providerCallback"


REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    AgentCreate,
    AgentPatch,
    BatchOptions,
    bodies.BatchCreateJson,
    bodies.UploadRequest,
    bodies.ScheduleRequest,
    SuppressionRequest,
    ErasureRequest,
)


class FactoryDefaults(GenerateJsonSchema):
    """Show a `default_factory`'s value as the default too (`call_days`: every day), as users need it."""

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            schema = {**schema, "default": factory()}  # type: ignore[call-arg]
            schema.pop("default_factory", None)
        return super().default_schema(schema)


@functools.cache
def document() -> Spec:
    """The whole document; built once per process (it depends only on the code)."""
    answers: set[type[BaseModel]] = {bodies.ErrorBody}
    answers.update(reply.body for op in OPERATIONS for reply in op.replies if reply.body is not None)
    models: list[tuple[type[BaseModel], Any]] = [(m, "validation") for m in REQUEST_MODELS]
    models += [(m, "serialization") for m in sorted(answers, key=lambda m: m.__name__)]
    _, schemas = models_json_schema(models, ref_template=REF, schema_generator=FactoryDefaults)
    defs: Spec = schemas.get("$defs", {})
    paths: dict[str, Spec] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, defs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "batchcall",
            "version": API_VERSION,
            "description": "Batch calling, wire-compatible with Bolna's batch API (docs.bolna.ai/api-reference/"
            "batches) plus additions. Errors are always JSON `{message, code, details}` with a 4xx. "
            "Guides: docs/api.md and docs/agents.md in the repository.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [{"name": name} for name in dict.fromkeys(op.tag for op in OPERATIONS)],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "responses": {
                str(status): {
                    "description": text,
                    "content": _content({"$ref": REF.format(model="ErrorBody")}),
                    **(
                        {"headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}}
                        if status == BUSY
                        else {}
                    ),
                }
                for status, text in ERRORS.items()
            },
            "headers": HEADERS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (`python manage.py create-key`; `make run` prints one).",
                }
            },
        },
    }
