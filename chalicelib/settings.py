"""One settings object, read from the environment at the edge.

`.chalice/config.json` stages, `infra/` and the local stack set these variables;
every module receives the values through `get_settings()` rather than reading
`os.environ` itself, so tests can swap them in one place.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    stage: str = Field("dev", alias="STAGE", description="Deployment stage; prefixes resource names.")
    resource_prefix: str = Field(
        "batchcall", alias="RESOURCE_PREFIX", description="Prefix of every table, queue and bucket name."
    )
    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    aws_account_id: str = Field(
        "123456789012", alias="AWS_ACCOUNT_ID", description="Used to build ARNs the Scheduler targets."
    )
    max_sync_upload_bytes: int = Field(
        4 * 1024 * 1024,
        alias="MAX_SYNC_UPLOAD_BYTES",
        description="Largest CSV accepted by POST /batches; larger files go through /batches/uploads.",
    )
    max_upload_bytes: int = Field(
        200 * 1024 * 1024, alias="MAX_UPLOAD_BYTES", description="Largest file POST /batches/uploads accepts."
    )
    max_rows: int = Field(2_000_000, alias="MAX_ROWS", description="Most data rows one file may hold.")
    export_inline_max_rows: int = Field(
        5000,
        ge=0,
        alias="EXPORT_INLINE_MAX_ROWS",
        description="Larger executions.csv exports are written to S3 and answered with a 303 to a presigned URL.",
    )
    export_sync_max_rows: int = Field(
        50_000,
        ge=0,
        alias="EXPORT_SYNC_MAX_ROWS",
        description="Batches with more contacts dispatched are exported in the background: GET executions.csv "
        "answers 202 until the file is ready, then 303 to it (API Gateway cuts requests off at 29 s).",
    )
    contacts_chunk_size: int = Field(
        2000, alias="CONTACTS_CHUNK_SIZE", description="Contacts per normalized S3 chunk and per dispatcher step."
    )
    dial_backlog_factor: int = Field(
        2,
        alias="DIAL_BACKLOG_FACTOR",
        description="The dispatcher holds back while queued dials exceed this many times the call capacity.",
    )
    simulator_speed: float = Field(
        1.0,
        alias="SIMULATOR_SPEED",
        description="Divides simulated call durations: 1 is real time, 60 makes a minute a second, 0 is instant.",
    )
    simulator_seed: int = Field(7, alias="SIMULATOR_SEED")
    call_report_timeout_seconds: int = Field(
        3600,
        alias="CALL_REPORT_TIMEOUT_SECONDS",
        description="A placed call with no final status after this long is marked error by the sweeper.",
    )
    claim_timeout_seconds: int = Field(
        300,
        alias="CLAIM_TIMEOUT_SECONDS",
        description="A call claimed but never confirmed placed after this long is marked error by the sweeper.",
    )
    contact_limit_max_wait_hours: int = Field(
        72,
        ge=0,
        le=24 * 365,
        alias="CONTACT_LIMIT_MAX_WAIT_HOURS",
        description="A contact over its per-number limit waits (rescheduled) when a slot frees within this many "
        "hours; later, it ends contact_limited (a batch has no end date: this is its life for the limit).",
    )
    max_schedule_lead_days: int = Field(
        365,
        ge=1,
        le=3650,
        alias="MAX_SCHEDULE_LEAD_DAYS",
        description="Latest start a batch may be scheduled for, in days from now; later is a 400 scheduled_at_too_far.",
    )
    scheduler_role_arn: str = Field(
        "arn:aws:iam::123456789012:role/batchcall-scheduler",
        alias="SCHEDULER_ROLE_ARN",
        description="Role EventBridge Scheduler assumes to send the start message.",
    )
    webhook_allow_private: bool = Field(
        False,
        alias="WEBHOOK_ALLOW_PRIVATE",
        description="Let webhooks reach private and loopback addresses over http too (local stack, tests only).",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, alias="WEBHOOK_TIMEOUT_SECONDS", description="Whole-request deadline of one webhook POST."
    )
    webhook_retry_schedule: Annotated[tuple[int, ...], NoDecode] = Field(
        (5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200, 43200),
        alias="WEBHOOK_RETRY_SCHEDULE",
        description="Seconds before each retry of a failed webhook, comma-separated; the last one repeats.",
    )
    webhook_max_attempts: int = Field(
        11, ge=1, le=50, alias="WEBHOOK_MAX_ATTEMPTS", description="Attempts per webhook before it is dead-lettered."
    )
    webhook_secret_overlap_hours: float = Field(
        24.0,
        ge=0,
        alias="WEBHOOK_SECRET_OVERLAP_HOURS",
        description="After a rotation, webhooks are signed with the old secret too for this long.",
    )

    cursor_secret: str = Field(
        "",
        alias="CURSOR_SECRET",
        description="Key that signs pagination cursors; unset, one is derived from RESOURCE_PREFIX, STAGE and "
        "AWS_ACCOUNT_ID (stable, but not secret).",
    )

    public_base_url: str = Field(
        "",
        alias="PUBLIC_BASE_URL",
        description="The API's public URL including the stage path (e.g. https://x.execute-api.eu-west-1"
        ".amazonaws.com/api): providers' status callbacks are sent to, and signed against, URLs under it.",
    )
    secrets_backend: Literal["env", "ssm"] = Field(
        "env",
        alias="SECRETS_BACKEND",
        description="Where provider credentials live: `ssm` (SecureString JSON per tenant, in AWS) or `env`.",
    )
    secrets_path: str = Field(
        "",
        alias="SECRETS_PATH",
        description="SSM path holding `<tenant_id>/<name>` parameters; default /<RESOURCE_PREFIX>/<STAGE>/secrets.",
    )
    twilio_api_base_url: str = Field(
        "",
        alias="TWILIO_API_BASE_URL",
        description="Send Twilio API requests here instead of https://api.twilio.com (tests, a proxy).",
    )
    provider_timeout_seconds: float = Field(
        10.0, gt=0, alias="PROVIDER_TIMEOUT_SECONDS", description="Deadline of one request placing a call."
    )
    provider_max_attempts: int = Field(
        4,
        ge=1,
        le=10,
        alias="PROVIDER_MAX_ATTEMPTS",
        description="Tries to place a call when the provider fails (5xx, timeout) before the call is `error`.",
    )
    pacing_max_sleep_seconds: float = Field(
        1.0,
        ge=0,
        alias="PACING_MAX_SLEEP_SECONDS",
        description="A paced call waits in the dialer up to this long; a longer wait goes back to the queue.",
    )

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _seconds_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.replace(" ", "").split(",") if part]
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(seconds < 1 for seconds in value):
            raise ValueError("WEBHOOK_RETRY_SCHEDULE needs at least one delay, each at least 1 second")
        return value

    @property
    def max_schedule_lead(self) -> timedelta:
        return timedelta(days=self.max_schedule_lead_days)

    def secret_path(self, tenant_id: str, name: str) -> str:
        base = self.secrets_path or f"/{self.resource_prefix}/{self.stage}/secrets"
        return f"{base.rstrip('/')}/{tenant_id}/{name}"

    def callback_url(self, provider: str, execution_id: str, base_url: str | None = None) -> str:
        """Where a provider reports one call; the execution id rides in the signed URL."""
        base = (base_url or self.public_base_url).rstrip("/")
        return f"{base}/providers/{provider}/events?execution_id={execution_id}"

    def name(self, short: str) -> str:
        """Physical name of a declared resource for this stage."""
        return f"{self.resource_prefix}-{self.stage}-{short}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
