"""Seeded fault injection for the local stack and the test pump (issue 18); never part of a deployed function.

A `FaultInjector` rolls one seeded random number per opportunity (an AWS call, a provider request, a queue
delivery, a schedule firing) and, at `rate`, injects a fault of a kind that fits the point: DynamoDB throttling
and transaction conflicts, S3/SQS/Scheduler 5xx, a crash before or after the call, a provider timeout after the
provider accepted, a duplicate, delayed or reordered delivery, a schedule that fires late or twice. It reaches
the service only through `chalicelib.aws.install_client_hook` (botocore event hooks; refused inside Lambda) and
through wrappers the pump or local stack put around providers and the scheduler. Every fault is logged with the
seed and its point, and the same seed with the same run replays the same faults.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chalicelib import aws
from chalicelib.domain.records import Agent
from chalicelib.providers.base import CallRequest, Failure, ProviderError
from local.scheduler_runner import SchedulerRunner

if TYPE_CHECKING:
    from mypy_boto3_scheduler.type_defs import GetScheduleOutputTypeDef

logger = logging.getLogger(__name__)

# Every kind of fault, by where it strikes.
AWS_KINDS = ("throttle", "conflict", "5xx", "crash_before", "crash_after")
PROVIDER_KINDS = ("provider_crash_before", "provider_timeout_after_accept", "provider_crash_after")
DELIVERY_KINDS = ("duplicate", "delay", "reorder", "handler_crash")
SCHEDULER_KINDS = ("schedule_late", "schedule_twice")
KINDS = AWS_KINDS + PROVIDER_KINDS + DELIVERY_KINDS + SCHEDULER_KINDS


class InjectedCrash(Exception):
    """A process dying at a point: the handler stops there, as a Lambda timeout or OOM would stop it."""


@dataclass(frozen=True)
class FaultConfig:
    seed: int
    rate: float = 0.05
    kinds: frozenset[str] = frozenset(KINDS)

    @classmethod
    def parse(cls, text: str) -> FaultConfig:
        """`seed=7,rate=0.05[,kinds=throttle+duplicate]`, as `make run FAULTS=...` passes it."""
        fields = dict(part.split("=", 1) for part in text.split(",") if part.strip())
        kinds = frozenset(fields["kinds"].split("+")) if "kinds" in fields else frozenset(KINDS)
        unknown = kinds - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
        return cls(seed=int(fields["seed"]), rate=float(fields.get("rate", 0.05)), kinds=kinds)


class _FakeHttp:
    """What botocore needs of an HTTP response to raise the modeled error from a short-circuited call."""

    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


_ERRORS = {  # kind -> (status, code) per service; "conflict" is built per transaction
    "throttle": (400, "ProvisionedThroughputExceededException"),
    "5xx": (500, "InternalError"),
}


class FaultInjector:
    """Seeded faults, injected only while `armed` (around a handler's invocation, never the harness's own calls)."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.injected: Counter[str] = Counter()
        self.trail: list[str] = []
        self._local = threading.local()  # armed per thread: the local stack runs handlers on many threads
        self._lock = threading.Lock()

    def reseed(self, config: FaultConfig) -> None:
        """Start over from another seed (the chaos test's next one), keeping the hooks already on the clients."""
        with self._lock:
            self.config = config
            self.rng = random.Random(config.seed)
            self.injected = Counter()
            self.trail = []

    def quiet(self) -> None:
        """Inject nothing from now on (the trail stays): an outage ends, and recovery must then finish."""
        with self._lock:
            self.config = replace(self.config, rate=0.0)

    # -- rolling ---------------------------------------------------------------------------------------------
    def roll(self, point: str, kinds: tuple[str, ...], rate: float | None = None) -> str | None:
        """At `rate` (the config's unless given), one of `kinds` (those enabled) to inject at `point`, logged;
        else None."""
        allowed = [k for k in kinds if k in self.config.kinds]
        with self._lock:
            if not allowed or self.rng.random() >= (self.config.rate if rate is None else rate):
                return None
            kind = self.rng.choice(allowed)
            self.injected[kind] += 1
            line = f"fault seed={self.config.seed} #{len(self.trail) + 1} point={point} kind={kind}"
            self.trail.append(line)
        logger.warning(line)
        return kind

    @property
    def is_armed(self) -> bool:
        return bool(getattr(self._local, "armed", False))

    @contextmanager
    def armed(self, on: bool = True) -> Iterator[None]:
        previous, self._local.armed = self.is_armed, on
        try:
            yield
        finally:
            self._local.armed = previous

    # -- AWS calls (botocore hooks) ------------------------------------------------------------------------------
    def install(self) -> None:
        aws.install_client_hook(self._attach)

    def uninstall(self) -> None:
        aws.install_client_hook(None)

    def _attach(self, service: str, client: Any) -> None:
        client.meta.events.register("before-call", self._before_call)
        client.meta.events.register("after-call", self._after_call)

    def _kinds_for(self, service: str, operation: str) -> tuple[str, ...]:
        kinds: tuple[str, ...] = ("5xx", "crash_before")
        if service == "dynamodb":
            kinds += ("throttle",) + (("conflict",) if operation == "TransactWriteItems" else ())
        return kinds

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        if not self.is_armed:
            return None
        service, operation = model.service_model.service_name, model.name
        kind = self.roll(f"{service}.{operation}:before", self._kinds_for(service, operation))
        if kind is None:
            return None
        if kind == "crash_before":
            raise InjectedCrash(f"crashed before {service}.{operation}")
        if kind == "conflict":
            items = json.loads(params.get("body") or "{}").get("TransactItems", [])  # the serialized request
            reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"} for _ in items]
            body = {
                "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled (injected)"},
                "CancellationReasons": reasons,
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return _FakeHttp(400), body
        status, code = _ERRORS[kind]
        body = {
            "Error": {"Code": code, "Message": f"{kind} (injected)"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return _FakeHttp(status), body

    def _after_call(self, model: Any, http_response: Any, **_: Any) -> None:
        if not self.is_armed or isinstance(http_response, _FakeHttp) or http_response.status_code >= 300:
            return
        service, operation = model.service_model.service_name, model.name
        if self.roll(f"{service}.{operation}:after", ("crash_after",)):
            raise InjectedCrash(f"crashed after {service}.{operation} succeeded")


class FaultyProvider:
    """Wraps a provider: a crash before the request, or after the provider accepted (as a crash, or as a
    timeout the caller sees although the call was placed: `Failure.UNKNOWN`, which must never lead to a
    second dial at a provider that cannot dedupe)."""

    def __init__(self, inner: Any, injector: FaultInjector) -> None:
        self.inner = inner
        self.name = inner.name
        self.injector = injector

    def idempotent(self, agent: Agent) -> bool:
        return bool(self.inner.idempotent(agent))

    def place_call(self, request: CallRequest, agent: Agent) -> str:
        point = f"provider.{self.name}.place_call"
        if self.injector.is_armed and self.injector.roll(point + ":before", ("provider_crash_before",)):
            raise InjectedCrash(f"crashed before placing {request.execution_id}")
        call_id = str(self.inner.place_call(request, agent))
        after = ("provider_crash_after", "provider_timeout_after_accept")
        kind = self.injector.roll(point + ":after", after) if self.injector.is_armed else None
        if kind == "provider_crash_after":
            raise InjectedCrash(f"crashed after the provider accepted {request.execution_id}")
        if kind == "provider_timeout_after_accept":
            raise ProviderError(Failure.UNKNOWN, "the provider timed out (injected; it had accepted the call)")
        return call_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


SCHEDULE_RATE = 0.2  # a firing is rare (one per scheduled batch): at the AWS-call rate a campaign would never meet one


class FaultyScheduler(SchedulerRunner):
    """The local Scheduler, firing a due schedule late (on a later tick) or twice, as EventBridge Scheduler may."""

    def __init__(self, group_name: str, injector: FaultInjector) -> None:
        super().__init__(group_name)
        self.injector = injector

    def adopt(self, previous: SchedulerRunner) -> None:
        """Go on from another runner's bookkeeping, so a schedule it fired is never fired again."""
        self._done = set(previous._done)

    def _deliver(self, key: tuple[str, Any], detail: GetScheduleOutputTypeDef) -> bool:
        point = f"scheduler.{key[0]}"
        rate = max(self.injector.config.rate, SCHEDULE_RATE)
        if self.injector.roll(point + ":late", ("schedule_late",), rate):
            return False  # due, but fires on a later tick
        if not super()._deliver(key, detail):
            return False
        if self.injector.roll(point + ":twice", ("schedule_twice",), rate):
            super()._deliver(key, detail)
        return True
