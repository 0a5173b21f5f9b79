"""A clean, reproducible world for each chaos seed (issue 18): the stack emptied, ids drawn from the seed.

Recreating moto's tables and queues for every seed costs more than the seed's campaign; emptying the one
backend in place keeps every resource (and every botocore client) and leaves no state from earlier seeds.
Ids (ours from `uuid.uuid4`, moto's message ids and receipt handles) come from the seed, so the same seed
makes the same ids, the same query orders and hence the same faults at the same points.
"""

from __future__ import annotations

import random
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.context import get_context
from botocore.signers import RequestSigner
from botocore.useragent import UserAgentString
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.moto_api._internal import mock_random
from moto.s3.models import s3_backends
from moto.s3.utils import _VersionedKeyStore
from moto.scheduler.models import scheduler_backends
from moto.sqs.models import sqs_backends

from chalicelib.adapters.queues import Queues
from chalicelib.services import attempt_end, budget, dialing
from chalicelib.settings import Settings

# What a warm container keeps between invocations and whose hit or miss changes the AWS calls a handler makes
# (each call is a point a fault can hit): emptied with the stack, so a seed makes the same calls whether it runs
# alone in a new process or after other seeds. Queue URLs were missed once (an lru_cache): a seed run after
# others skipped its GetQueueUrl calls and every fault after them moved (17 of 19 seeds in 180-199 differed).
# tests/support/test_world.py fails on any cache in chalicelib that is neither here nor known to make no call.
WARM_STATE: tuple[Any, ...] = (
    dialing._agents,  # warm dialers' agents
    budget._agents,
    attempt_end._batches,  # running batches cached by id: the ids repeat when a seed runs again
    Queues.url,  # queue URLs, one GetQueueUrl each
)


def empty_stack(settings: Settings) -> None:
    """Every table, queue (and DLQ), bucket and schedule group of the in-process moto backend, emptied in place."""
    region = settings.aws_region
    for table in dynamodb_backends[DEFAULT_ACCOUNT_ID][region].tables.values():
        table.items.clear()
    for queue in sqs_backends[DEFAULT_ACCOUNT_ID][region].queues.values():
        queue._messages = []
        queue._pending_messages = set()
        queue.deleted_messages = set()
    for partition in s3_backends[DEFAULT_ACCOUNT_ID].values():
        for bucket in partition.buckets.values():
            bucket.keys = _VersionedKeyStore()
    for group in scheduler_backends[DEFAULT_ACCOUNT_ID][region].schedule_groups.values():
        group.schedules.clear()
    for cache in WARM_STATE:  # a cold start per seed
        cache.cache_clear() if hasattr(cache, "cache_clear") else cache.clear()


def has_visible_messages(settings: Settings, queue_name: str) -> bool:
    """Whether moto holds a message of `queue_name` a receive would return now (no receive call for an empty one)."""
    queue = sqs_backends[DEFAULT_ACCOUNT_ID][settings.aws_region].queues.get(queue_name)
    return queue is None or bool(queue.messages)


def queue_counts(settings: Settings, queue_name: str) -> tuple[int, int, int] | None:
    """(visible, in flight, delayed) messages of `queue_name`, as `GetQueueAttributes` counts them (its
    `ApproximateNumberOf...`), read in moto's backend: the harness's checks cost no AWS call. None: no such queue."""
    queue = sqs_backends[DEFAULT_ACCOUNT_ID][settings.aws_region].queues.get(queue_name)
    if queue is None:
        return None
    return (
        queue.approximate_number_of_messages,
        queue.approximate_number_of_messages_not_visible,
        queue.approximate_number_of_messages_delayed,
    )


@contextmanager
def seeded_ids(seed: int) -> Iterator[None]:
    """`uuid.uuid4` (our ids) and moto's random (its message ids, receipt handles) drawn from `seed`."""
    rng = random.Random(f"ids:{seed}")
    original = uuid.uuid4
    uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)
    mock_random.seed(seed)
    try:
        yield
    finally:
        uuid.uuid4 = original


_UNSIGNED = frozenset({"dynamodb", "sqs", "scheduler"})  # S3 stays signed: moto's S3 reads its auth headers
_sign = RequestSigner.sign


def _sign_unless_moto_ignores_it(signer: RequestSigner, operation: str, request: Any, *args: Any, **kwargs: Any) -> Any:
    standard = kwargs.get("signing_type", args[1] if len(args) > 1 else "standard") == "standard"
    if standard and signer.signing_name in _UNSIGNED:
        return None
    return _sign(signer, operation, request, *args, **kwargs)


_user_agent = UserAgentString.to_string
_user_agents: weakref.WeakKeyDictionary[UserAgentString, dict[frozenset[str], str]] = weakref.WeakKeyDictionary()


def _user_agent_once(creator: UserAgentString) -> str:
    """A client's User-Agent for the request's features (the rest of it is the client's, fixed once made)."""
    context = get_context()
    client: set[str] = getattr(creator, "_client_features", None) or set()  # botocore private, untyped
    features = frozenset(client | (context.features if context else set()))
    built = _user_agents.setdefault(creator, {})
    if features not in built:
        built[features] = _user_agent(creator)
    return built[features]


@contextmanager
def cheap_requests() -> Iterator[None]:
    """botocore's per-request work that neither the service's code nor moto's answers see, skipped while a seed
    runs (each AWS call of a seed costs more in botocore and moto than in the backend's own work):

    1. SigV4 signing of DynamoDB, SQS and Scheduler requests (a tenth of a seed's CPU). In-process moto checks no
       signature (IAM auth off) and takes the account from the signature's access key: the test key `testing` is
       no IAM key, so it falls back to the default account, as an unsigned request does; the region is in the URL.
       The fault hooks (before-call, after-call) run as before; presigned URLs are signed as before.
    2. The User-Agent header, built twice a request from some 35 components, each sanitised character by
       character: a client's is the same for the same request features (retry mode, paginator, ...).
    """
    RequestSigner.sign = _sign_unless_moto_ignores_it  # type: ignore[method-assign,assignment]
    UserAgentString.to_string = _user_agent_once  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        RequestSigner.sign = _sign  # type: ignore[method-assign]
        UserAgentString.to_string = _user_agent  # type: ignore[method-assign]
