"""Lazy, cached boto3 clients: the one place AWS connections are made.

boto3 honours `AWS_ENDPOINT_URL` itself, so the same code talks to AWS, to the
local stack's embedded emulator and to moto in tests. Clients are created on
first use (cold starts only pay for what a function touches) and cached per
process; `reset()` drops them when tests change the environment.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .errors import Throttled

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


# Refusals for rate, by service (DynamoDB, SQS, S3, Scheduler): botocore's standard mode retries them first.
THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
    }
)


def _init_throttled(self: Any, error_response: Any, operation_name: str) -> None:
    ClientError.__init__(self, error_response, operation_name)  # ServiceError's init would reach it by the MRO
    self.message = f"AWS is busy ({operation_name} was throttled): try again shortly"
    self.details = []


@cache
def throttled_class(modeled: type[ClientError]) -> Callable[[Any, str], Throttled]:
    """`modeled` (the client's own error class for the code, e.g. ProvisionedThroughputExceededException) that is
    also a `Throttled`: the API answers it 503 `try_again`, and every `except` that caught it still does."""
    return type(f"Throttled{modeled.__name__}", (Throttled, modeled), {"__init__": _init_throttled})


def _raise_throttled(client: Any, http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
    """botocore's after-call hook, once its retries are spent: a refusal for rate leaves as a `Throttled`."""
    failed = http_response is not None and http_response.status_code >= 300 and isinstance(parsed, dict)
    code = parsed.get("Error", {}).get("Code") if failed else None
    if code in THROTTLE_CODES:
        raise throttled_class(client.exceptions.from_code(code))(parsed, model.name)


@cache
def _session() -> Any:
    """One session per process: each new session reloads botocore's service models (0.1-0.3 s)."""
    return boto3.session.Session()


@cache
def _client(service: str) -> Any:
    with _lock:  # a session is not thread-safe while creating clients
        from .settings import get_settings

        client = _session().client(service, region_name=get_settings().aws_region, config=_CONFIG)
        client.meta.events.register("after-call", functools.partial(_raise_throttled, client))
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
