"""The one declaration of tables, indexes, queues and the bucket.

`infra/`, the local stack's bootstrap and the test fixtures all build the same
resources from this module, so a key or an index cannot drift between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .settings import Settings


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None
    # KEYS_ONLY: an update that changes neither key writes nothing to the index (an ALL index rewrites its whole
    # entry on every write), so a key every call of a batch or agent shares stays far from its partition's
    # ~1,000 write units/s; readers fetch the items by key (BatchGetItem). See README "Scaling".
    projection: str = "ALL"


@dataclass(frozen=True)
class Table:
    short: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    attribute_types: dict[str, str] = field(default_factory=dict)  # S unless named here


@dataclass(frozen=True)
class Queue:
    short: str
    visibility_timeout: int
    max_receive_count: int = 5
    consumer: str = ""  # the Chalice function that consumes it


API_KEYS = Table("api-keys", partition_key="key_hash")
AGENTS = Table(
    "agents",
    partition_key="tenant_id",
    sort_key="agent_id",
    indexes=(Index("by_id", partition_key="agent_id"),),  # the drop folder knows the agent, not the tenant
)
BATCHES = Table(
    "batches",
    partition_key="batch_id",
    indexes=(
        Index("by_agent_keys", partition_key="agent_key", sort_key="created_at", projection="KEYS_ONLY"),
        Index("by_status", partition_key="active", sort_key="batch_id"),
        # The same, KEYS_ONLY: written when a batch becomes active or stops being so, not by each counter update of
        # a batch whose counters are on its item (by_status's ALL entry is rewritten by each: ~2 write units a call,
        # one key for the deployment, ~490 calls/s). Staged (README "Upgrading a deployment"): this release creates
        # it and DynamoDB backfills it; the next moves the sweeper's reads here and deletes by_status.
        Index("by_status_keys", partition_key="active", sort_key="batch_id", projection="KEYS_ONLY"),
    ),
)
EXECUTIONS = Table(
    "executions",
    partition_key="execution_id",
    indexes=(
        Index("by_batch_keys", partition_key="batch_id", sort_key="seq", projection="KEYS_ONLY"),
        Index("by_open", partition_key="open_shard", sort_key="updated_at"),
        # A call waiting as `rescheduled` (calling hours, a contact limit), by its wake-up time: the sweeper wakes
        # one whose wake-up was lost (store/executions.WAKE_SHARD). Sparse; KEYS_ONLY: only its moves write it.
        Index("by_wake", partition_key="wake_shard", sort_key="scheduled_at", projection="KEYS_ONLY"),
        # An erasure finds one tenant's number here (`number_key`: a hash of tenant and number), never by a scan;
        # an erased execution leaves it. KEYS_ONLY: written when a call is created and when it is erased, not on
        # every write of a call (its ALL predecessor, by_number, rewrote its entry each time: ~6 write units a call).
        Index("by_number_keys", partition_key="number_key", sort_key="execution_id", projection="KEYS_ONLY"),
        # An agent's call history (GET /v2/agent/{agent_id}/executions): `<tenant>#<agent>`, `<created_at>#<id>`.
        Index("by_agent_keys", partition_key="agent_key", sort_key="agent_sort", projection="KEYS_ONLY"),
    ),
)
# One counter item per agent (lease_id "live") plus one item per live call; expired leases are reclaimed.
LEASES = Table(
    "leases",
    partition_key="agent_key",
    sort_key="lease_id",
    indexes=(Index("by_expiry", partition_key="lease_shard", sort_key="expires_at"),),
)
# Per batch: one row per webhook attempt (sort key `<attempted_at>#<event id>#<attempt>`, so the log reads in
# time order) and one `event#<event id>` item per event that dedupes and sequences its attempts.
WEBHOOK_DELIVERIES = Table("webhook-deliveries", partition_key="batch_id", sort_key="delivery_key")
# One item per tenant: its webhook signing secrets and the endpoints a 410 disabled.
TENANTS = Table("tenants", partition_key="tenant_id")
# Providers' callbacks already received, per signing account (`<tenant>#<provider>#<credentials name>`), for
# signatures that do not cover the URL (HTTP voice agents): a webhook-id seen once is refused on every call.
# Kept (TTL) well past the signature's 5-minute freshness, after which a replay is refused as stale anyway.
CALLBACK_RECEIPTS = Table("callback-receipts", partition_key="receipt_key", ttl_attribute="expires_at")
# One item per (tenant, E.164 number): its suppression (do-not-call entry, if any) and its attempt history (the
# times of its dial claims, newest first), so the dialer's claim checks both with ONE transaction element.
# The sparse `suppressed` index holds only suppressed numbers (`suppressed_tenant` is set only then).
NUMBERS = Table(
    "numbers",
    partition_key="tenant_id",
    sort_key="number",
    indexes=(Index("suppressed", partition_key="suppressed_tenant", sort_key="number"),),
    ttl_attribute="ttl",
)
# Append-only, per tenant: one entry per change an API key made (sort key `<at>#<id>`, so it reads in time
# order); by_target lists one target's entries (`<tenant>#<target>`). No role may update or delete it.
AUDIT = Table(
    "audit",
    partition_key="tenant_id",
    sort_key="entry_key",
    indexes=(Index("by_target", partition_key="target_key", sort_key="entry_key"),),
)
# One item per erasure request (POST /erasures): its progress; it never holds the full number.
ERASURES = Table("erasures", partition_key="tenant_id", sort_key="erasure_id")
TABLES: tuple[Table, ...] = (
    API_KEYS,
    AGENTS,
    BATCHES,
    EXECUTIONS,
    LEASES,
    WEBHOOK_DELIVERIES,
    TENANTS,
    CALLBACK_RECEIPTS,
    NUMBERS,
    AUDIT,
    ERASURES,
)

# Visibility timeouts are at least six times each consumer's Lambda timeout, as AWS advises.
CONTROL_QUEUE = Queue("control", visibility_timeout=360, consumer="dispatcher")
DIAL_QUEUE = Queue("dial", visibility_timeout=180, consumer="dialer")
PROVIDER_EVENTS_QUEUE = Queue("provider-events", visibility_timeout=180, consumer="provider_events")
# The ingest function may run up to Lambda's 15 minutes on a million-row file.
INGEST_QUEUE = Queue("ingest", visibility_timeout=5400, max_receive_count=3, consumer="ingest")
# The sender takes up to 10 records per invocation, each up to WEBHOOK_TIMEOUT_SECONDS (10 s): a 120 s Lambda
# timeout, hence 720 s. A failed POST is not a failed record (its retry is a new delayed message), so
# max_receive_count only counts crashes.
WEBHOOK_QUEUE = Queue("webhooks", visibility_timeout=720, max_receive_count=3, consumer="webhook_sender")
# A background CSV export may run up to Lambda's 15 minutes (a million executions).
EXPORTS_QUEUE = Queue("exports", visibility_timeout=5400, max_receive_count=3, consumer="exporter")
QUEUES: tuple[Queue, ...] = (
    CONTROL_QUEUE,
    DIAL_QUEUE,
    PROVIDER_EVENTS_QUEUE,
    INGEST_QUEUE,
    WEBHOOK_QUEUE,
    EXPORTS_QUEUE,
)

UPLOADS_PREFIX = "uploads/"  # presigned uploads: uploads/<tenant>/<batch_id>.csv
INBOX_PREFIX = "inbox/"  # the drop folder: inbox/<agent_id>/<name>.csv (+ optional <name>.json)
QUARANTINE_PREFIX = "quarantine/"
EXPORTS_PREFIX = "exports/"  # large CSV exports: exports/<tenant>/<batch_id>/<stamp>.csv, fetched by presigned GET
# S3 -> SQS notifications: (key prefix, queue). infra/ and the local bootstrap both apply these.
BUCKET_NOTIFICATIONS: tuple[tuple[str, Queue], ...] = ((UPLOADS_PREFIX, INGEST_QUEUE), (INBOX_PREFIX, INGEST_QUEUE))

SCHEDULE_GROUP = "batches"


def table_name(settings: Settings, table: Table) -> str:
    return settings.name(table.short)


def queue_name(settings: Settings, queue: Queue) -> str:
    return settings.name(queue.short)


def dlq_name(settings: Settings, queue: Queue) -> str:
    return settings.name(f"{queue.short}-dlq")


def bucket_name(settings: Settings) -> str:
    return settings.name(f"data-{settings.aws_account_id}")


def schedule_group_name(settings: Settings) -> str:
    return settings.name(SCHEDULE_GROUP)


def queue_arn(settings: Settings, queue: Queue) -> str:
    return f"arn:aws:sqs:{settings.aws_region}:{settings.aws_account_id}:{queue_name(settings, queue)}"
