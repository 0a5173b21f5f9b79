"""What each Chalice function may touch: least privilege, read off the code each one runs.

Every entry follows the calls in the modules a function reaches (`chalicelib/store/`, `services/`,
`workers/`, `providers/`); when the code starts calling something new, change it here
and the template tests show the difference; tests/integration/test_permissions.py checks these entries
against the calls each function makes in representative flows. Queue *consumption* is not listed: it follows from
`resources.QUEUES` (each queue names its consumer). The stack refuses to synthesize a function
that has no entry.

DynamoDB transactions need no action of their own: each element is authorised as the matching
item action (Put -> PutItem, Update -> UpdateItem, Delete -> DeleteItem, ConditionCheck -> ConditionCheckItem).
`SendMessageBatch` is authorised as `sqs:SendMessage`; multipart uploads and CopyObject's write as `s3:PutObject`
(CopyObject also reads its source with `s3:GetObject`).
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.resources import (
    AGENTS,
    API_KEYS,
    AUDIT,
    BATCHES,
    CALLBACK_RECEIPTS,
    CONTROL_QUEUE,
    DIAL_QUEUE,
    ERASURES,
    EXECUTIONS,
    EXPORTS_PREFIX,
    EXPORTS_QUEUE,
    INBOX_PREFIX,
    LEASES,
    NUMBERS,
    PROVIDER_EVENTS_QUEUE,
    QUARANTINE_PREFIX,
    TENANTS,
    UPLOADS_PREFIX,
    WEBHOOK_DELIVERIES,
    WEBHOOK_QUEUE,
    Queue,
    Table,
)

GET, PUT, UPDATE, DELETE, QUERY = (f"dynamodb:{a}" for a in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"))
CHECK = "dynamodb:ConditionCheckItem"  # a transaction's ConditionCheck element
BATCH_WRITE = "dynamodb:BatchWriteItem"  # the purge's deletes, 25 per request
BATCH_GET = "dynamodb:BatchGetItem"  # ingest: which of a chunk's contacts are suppressed (NumberStore)
READ, WRITE, REMOVE = "s3:GetObject", "s3:PutObject", "s3:DeleteObject"  # DeleteObjects: DeleteObject per key
ABORT = "s3:AbortMultipartUpload"  # upload_fileobj (the row-error report) goes multipart above 8 MB
TAG = "s3:PutObjectTagging"  # put_raw tags raw files kind=raw for the lifecycle rule

# Key patterns of the bucket's layout (chalicelib/store/blobs.py, services/ingest.py).
RAW = "batches/*/raw"
CONTACTS = "batches/*/contacts/*"
ERRORS = "batches/*/errors.jsonl"
UPLOADS = f"{UPLOADS_PREFIX}*"
INBOX = f"{INBOX_PREFIX}*"
QUARANTINE = f"{QUARANTINE_PREFIX}*"
EXPORTS = f"{EXPORTS_PREFIX}*"

# The queues `adapters/queues.Scheduler.send_at` hands to EventBridge Scheduler beyond SQS's 15-minute delay:
# batch starts (lifecycle.deliver_start), late dials and call retries (dialer, calls), webhook retries.
SCHEDULER_TARGETS: tuple[Queue, ...] = (CONTROL_QUEUE, DIAL_QUEUE, WEBHOOK_QUEUE)


@dataclass(frozen=True)
class Access:
    """One function's needs, naming declared resources (never ARNs)."""

    items: tuple[tuple[Table, tuple[str, ...]], ...] = ()  # actions on each table itself
    indexes: tuple[tuple[Table, str], ...] = ()  # (table, GSI) the function queries
    objects: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (key pattern, S3 actions)
    # s3:ListBucket, only so that reading a missing key answers NoSuchKey (404), which the code expects,
    # rather than AccessDenied (403).
    list_bucket: bool = False
    sends: tuple[Queue, ...] = ()  # GetQueueUrl + SendMessage
    dead_letters: tuple[Queue, ...] = ()  # GetQueueUrl + SendMessage on these queues' DLQs
    # deliver_at: a schedule in the group (create, or update on a conflict; deleted when an SQS delay
    # replaces it), passing the Scheduler role. Under 15 minutes it is an SQS delay: list the queue in `sends`.
    schedules: bool = False
    # ssm:GetParameter on the tenants' provider credentials (`<SECRETS_PATH>/<tenant>/<name>`, SecureString
    # under the aws/ssm key, whose key policy lets callers authorised for SSM decrypt: no KMS grant needed).
    secrets: bool = False


ACCESS: dict[str, Access] = {
    # api/: auth (keys); agents CRUD; batches: create from the body (chunks, row errors, raw file), presigned
    # upload (the POST is authorised by this role's credentials), reads, lifecycle commands; executions
    # reads; large CSV exports (written, multipart or not, then fetched through a URL this role presigns);
    # webhooks: the tenant's secret, a batch's delivery log; providers' callbacks (verify with the
    # tenant's credentials, remember the callback, queue its events).
    "api_handler": Access(
        items=(
            (API_KEYS, (GET,)),
            (AGENTS, (GET, PUT, UPDATE, DELETE, QUERY)),  # AgentStore.list queries the table's own key
            (BATCHES, (GET, PUT, UPDATE, BATCH_GET)),  # BATCH_GET: the batches behind by_agent_keys (KEYS_ONLY)
            (EXECUTIONS, (GET, UPDATE, BATCH_GET)),  # BATCH_GET: the executions behind the KEYS_ONLY indexes
            (TENANTS, (GET, UPDATE)),
            (WEBHOOK_DELIVERIES, (GET, QUERY)),  # GET: a call's deliveries for its timeline
            (CALLBACK_RECEIPTS, (GET, PUT)),  # HTTP voice agents' webhook-ids, per signing account
            (NUMBERS, (GET, UPDATE, BATCH_GET)),  # the suppression routes; create_batch skips suppressed contacts
            (AUDIT, (PUT, QUERY)),  # append-only: never UpdateItem or DeleteItem
            (ERASURES, (GET, PUT)),
            # GET: resume (budget.check_resumable) reads the agent's month spend (monthly budget); BATCH_GET: a batch
            # counting on its agent's live-call shards is read with them; UPDATE: pause, stop and resume set or
            # remove its halted marker there (store/batches.py CO_FIELD)
            (LEASES, (GET, UPDATE, BATCH_GET)),
        ),
        indexes=(
            (BATCHES, "by_agent_keys"),
            (EXECUTIONS, "by_batch_keys"),
            (EXECUTIONS, "by_agent_keys"),
            (NUMBERS, "suppressed"),
            (AUDIT, "by_target"),
        ),
        objects=(
            (RAW, (WRITE, TAG)),
            (CONTACTS, (WRITE,)),
            (ERRORS, (WRITE, ABORT, READ)),
            (UPLOADS, (WRITE,)),
            (EXPORTS, (WRITE, ABORT, READ)),
        ),
        list_bucket=True,  # iter_errors: no errors.jsonl means no row errors
        # run/schedule, resume; batch webhooks; callbacks' events; background exports
        sends=(CONTROL_QUEUE, WEBHOOK_QUEUE, PROVIDER_EVENTS_QUEUE, EXPORTS_QUEUE),
        schedules=True,  # schedule/run create or update the start schedule; stop/delete delete it
        secrets=True,
    ),
    # services/dispatch.py, cancel_walk.py: start a batch, read contact chunks, write executions, feed the dial queue;
    # the cancel walk of an ended batch: canceled executions for the contacts never dispatched, then
    # the waiting ones canceled (read in contact order, finish_call: GET for the call.ended webhook);
    # upload_expiry.py: is a presigned upload's file in the bucket (HeadObject), else fail its batch.
    # purge_walk.py: a deleted batch's executions, delivery log and objects deleted (BatchWriteItem, DeleteObjects
    # after listing its prefixes); erasures.py: the number's executions (by_number_keys) erased or canceled, then
    # (erasure_files.py) its batches' chunks and row errors masked, raw files and exports deleted.
    "dispatcher": Access(
        items=(
            (BATCHES, (GET, UPDATE, BATCH_GET)),  # BATCH_GET: a batch on its agent's shards, read with them
            (LEASES, (UPDATE, BATCH_GET)),  # a start counts its agent's batches there; a stop sets its marker
            (AGENTS, (GET,)),
            (EXECUTIONS, (GET, PUT, UPDATE, BATCH_WRITE, BATCH_GET)),  # BATCH_GET: behind by_batch_keys
            (WEBHOOK_DELIVERIES, (QUERY, BATCH_WRITE)),
            (ERASURES, (GET, UPDATE)),
        ),
        indexes=((EXECUTIONS, "by_batch_keys"), (EXECUTIONS, "by_number_keys")),
        objects=(
            (CONTACTS, (READ, WRITE, REMOVE)),  # WRITE: an erasure masks the number in a chunk
            (UPLOADS, (READ, REMOVE)),
            (RAW, (REMOVE,)),
            (ERRORS, (READ, WRITE, ABORT, REMOVE)),  # an erasure masks the number in the row-error report
            (EXPORTS, (REMOVE,)),
            (INBOX, (REMOVE,)),
            (QUARANTINE, (REMOVE,)),
        ),
        list_bucket=True,  # check_upload: a file not uploaded answers 404, not 403
        sends=(CONTROL_QUEUE, DIAL_QUEUE, WEBHOOK_QUEUE),  # + dispatching / in_progress / completed webhooks
    ),
    # services/dialing.py: claim (execution + batch + the agent's lease counter + the lease), pace (the
    # account's pace item in the leases table), place the call with the tenant's provider credentials,
    # reschedule or wait for a slot; finish_call for calls never placed (retry, release, complete).
    "dialer": Access(
        items=(
            (AGENTS, (GET,)),
            (BATCHES, (GET, UPDATE, BATCH_GET)),  # BATCH_GET: a batch on its agent's shards, read with them
            (EXECUTIONS, (GET, PUT, UPDATE)),  # GET: the ended call for its webhook
            # GET: the pace item; BATCH_GET: the live-call shards' counters when a claim's own shard is full;
            # CHECK: the claim's month_budget_check (the agent's month is still under its monthly budget)
            (LEASES, (GET, PUT, UPDATE, DELETE, BATCH_GET, CHECK)),
            (NUMBERS, (UPDATE,)),  # the claim's number element: suppression and contact limit
        ),
        sends=(DIAL_QUEUE, PROVIDER_EVENTS_QUEUE, WEBHOOK_QUEUE),  # simulator events; webhooks of calls never placed
        schedules=True,
        secrets=True,
    ),
    # services/provider_events.py: read the execution, move it forward; finish_call (retry, release, complete).
    # A costed outcome of an agent with a monthly budget (services/budget.py): month_cost_elements reads the agent,
    # pause_agent_if_spent reads the month's spend and pauses the agent's running batches (by_agent_keys).
    "provider_events": Access(
        items=(
            (EXECUTIONS, (GET, PUT, UPDATE)),
            (BATCHES, (GET, UPDATE, BATCH_GET)),  # BATCH_GET: the agent's batches behind by_agent_keys (KEYS_ONLY)
            (AGENTS, (GET,)),  # the agent's monthly_max_spend
            (LEASES, (GET, UPDATE, DELETE, BATCH_GET)),  # GET: the agent's month spend; BATCH_GET: co-located counters
            (NUMBERS, (UPDATE,)),  # an opt-out event suppresses the number
        ),
        indexes=((BATCHES, "by_agent_keys"),),
        sends=(DIAL_QUEUE, WEBHOOK_QUEUE),  # retries; call and completion webhooks
        schedules=True,
    ),
    # workers/ingest.py -> services/ingest.py: an object arrived under uploads/ or inbox/: read it (and an
    # inbox sidecar, often absent), write chunks and row errors, finish the batch (and schedule its start);
    # quarantine bad drops (copy, reason, delete).
    "ingest": Access(
        items=(
            (BATCHES, (GET, PUT, UPDATE)),
            (NUMBERS, (BATCH_GET,)),  # suppressed contacts are skipped
            (AGENTS, (GET,)),  # ingest._finish: the agent's template variables check the file's columns
        ),
        indexes=((AGENTS, "by_id"), (NUMBERS, "suppressed")),
        objects=(
            (UPLOADS, (READ, REMOVE)),  # REMOVE: a file uploaded for a batch deleted meanwhile
            (INBOX, (READ, REMOVE)),
            (QUARANTINE, (WRITE,)),
            (CONTACTS, (WRITE,)),
            (ERRORS, (WRITE, ABORT)),
        ),
        list_bucket=True,  # _sidecar: a missing x.json means no options
        sends=(CONTROL_QUEUE, WEBHOOK_QUEUE),  # scheduling a dropped batch; validating / failed webhooks
        schedules=True,
    ),
    # services/webhook_delivery.py: claim/settle/log each attempt, the tenant's secrets (made on first use) and
    # disabled endpoints; the next attempt as a delayed message or a schedule; the last one dead-lettered.
    "webhook_sender": Access(
        items=(
            (TENANTS, (GET, UPDATE)),
            (WEBHOOK_DELIVERIES, (PUT, UPDATE)),
            (BATCHES, (GET, BATCH_GET)),  # a deleted batch; BATCH_GET: one on its agent's shards, read with them
            (LEASES, (BATCH_GET,)),  # the agent's shards holding a batch's counters (store/batches.py CO_FIELD)
        ),
        sends=(WEBHOOK_QUEUE,),
        dead_letters=(WEBHOOK_QUEUE,),
        schedules=True,
    ),
    # services/sweeping.py: the open-executions, expired-leases and active-batches indexes; finish_call;
    # re-send stalled dispatch steps; re-deliver missed starts; wake rescheduled calls whose wake-up was lost
    # (by_wake, KEYS_ONLY: the items by BatchGetItem; services/wake_rearm.py).
    "sweeper": Access(
        items=(
            (EXECUTIONS, (GET, PUT, UPDATE, BATCH_GET)),
            (BATCHES, (GET, UPDATE, BATCH_GET)),  # BATCH_GET: a batch's counter shards, or its agent's shards
            (LEASES, (UPDATE, DELETE, BATCH_GET)),  # BATCH_GET: the agent's shards holding a batch's counters
        ),
        indexes=((EXECUTIONS, "by_open"), (EXECUTIONS, "by_wake"), (LEASES, "by_expiry"), (BATCHES, "by_status")),
        sends=(CONTROL_QUEUE, DIAL_QUEUE, WEBHOOK_QUEUE),  # restarts; webhooks of calls it ends
        schedules=True,
    ),
    # workers/exporter.py -> services/exports.py: a large batch's executions, read in contact order and
    # written to S3 (multipart), then recorded on the batch for the API to presign.
    "exporter": Access(
        items=(
            (BATCHES, (GET, UPDATE, BATCH_GET)),  # BATCH_GET: a batch's counter shards, or its agent's shards
            (LEASES, (BATCH_GET,)),  # the agent's shards holding a batch's counters (store/batches.py CO_FIELD)
            (EXECUTIONS, (BATCH_GET,)),  # the executions behind by_batch_keys
            (AGENTS, (GET,)),  # exports._schema: the agent's extraction_schema gives the CSV's columns
        ),
        indexes=((EXECUTIONS, "by_batch_keys"),),
        objects=((EXPORTS, (WRITE, ABORT)),),
    ),
}
