"""One settings object, read from the environment at the edge.

`.chalice/config.json` stages, `infra/` and the local stack set these variables;
every module receives the values through `get_settings()` rather than reading
`os.environ` itself, so tests can swap them in one place.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    scheduler_role_arn: str = Field(
        "arn:aws:iam::123456789012:role/batchcall-scheduler",
        alias="SCHEDULER_ROLE_ARN",
        description="Role EventBridge Scheduler assumes to send the start message.",
    )

    def name(self, short: str) -> str:
        """Physical name of a declared resource for this stage."""
        return f"{self.resource_prefix}-{self.stage}-{short}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
