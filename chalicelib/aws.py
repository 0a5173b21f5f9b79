"""Lazy, cached boto3 clients: the one place AWS connections are made.

boto3 honours `AWS_ENDPOINT_URL` itself, so the same code talks to AWS, to the
local stack's embedded emulator and to moto in tests. Clients are created on
first use (cold starts only pay for what a function touches) and cached per
process; `reset()` drops them when tests change the environment.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_scheduler.client import EventBridgeSchedulerClient
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_ssm.client import SSMClient

_lock = threading.Lock()
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32)
# Issue 18's fault injection: a local-only object (local/faults.py) that registers botocore event hooks on each
# new client. Nothing in chalicelib installs one, and a Lambda refuses it, so a deployed stage cannot inject.
_client_hook: Callable[[str, Any], None] | None = None


@cache
def _session() -> Any:
    """One session per process: each new session reloads botocore's service models (0.1-0.3 s)."""
    return boto3.session.Session()


@cache
def _client(service: str) -> Any:
    with _lock:  # a session is not thread-safe while creating clients
        from .settings import get_settings

        client = _session().client(service, region_name=get_settings().aws_region, config=_CONFIG)
        if _client_hook is not None:
            _client_hook(service, client)
        return client


def install_client_hook(hook: Callable[[str, Any], None] | None) -> None:
    """Local stack and tests only: call `hook(service, client)` on every client made from now on (None: stop).

    Refused inside Lambda (AWS_LAMBDA_FUNCTION_NAME is set there), so no deployed function can inject faults."""
    global _client_hook
    if hook is not None and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise RuntimeError("fault injection is for the local stack and tests; refused inside Lambda")
    if hook is not None and hook == _client_hook:
        return  # already on every client: keep them (a new session reloads botocore's models, ~0.5 s)
    _client_hook = hook
    reset()


def dynamodb() -> DynamoDBClient:
    return _client("dynamodb")


def s3() -> S3Client:
    return _client("s3")


def sqs() -> SQSClient:
    return _client("sqs")


def scheduler() -> EventBridgeSchedulerClient:
    return _client("scheduler")


def ssm() -> SSMClient:
    return _client("ssm")


def reset() -> None:
    _client.cache_clear()
    _session.cache_clear()
