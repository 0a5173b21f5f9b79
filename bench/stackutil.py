"""Shared by the benchmarks: a local stack in this process, an HTTP helper, request counting."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_stack(**env: str) -> Any:
    os.environ.update(env)
    from local.stack import LocalStack

    return LocalStack(project_dir=ROOT, api_port=0).start()


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def post_csv(self, agent_id: str, csv: bytes, **fields: str) -> dict[str, Any]:
        response = self.session.post(
            f"{self.url}/batches", data={"agent_id": agent_id, **fields}, files={"file": ("b.csv", csv)}, timeout=60
        )
        response.raise_for_status()
        return dict(response.json())

    def get(self, path: str) -> Any:
        response = self.session.get(f"{self.url}{path}", timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, **kwargs: Any) -> Any:
        response = self.session.post(f"{self.url}{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()


def numbers_csv(count: int, start: int = 0) -> bytes:
    """Valid, distinct US numbers (area codes 201-989 x exchange 200-999 keep them valid)."""
    lines = ["contact_number,customer_name"]
    for i in range(start, start + count):
        area, rest = divmod(i, 800 * 10000)
        exchange, line = divmod(rest, 10000)
        lines.append(f"+1{212 + area}{200 + exchange}{line:04d},Name {i}")
    return ("\n".join(lines) + "\n").encode()


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError("condition not met in time")
        time.sleep(interval)
    return time.monotonic() - start


class RequestCounter:
    """Counts AWS requests by service and operation with a botocore event hook on the service's clients."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.enabled = False

    def install(self) -> None:
        from chalicelib import aws

        for make in (aws.dynamodb, aws.s3, aws.sqs, aws.scheduler):
            make().meta.events.register("before-call", self._count)

    def _count(self, event_name: str, **_: Any) -> None:
        if self.enabled:
            _, service, operation = event_name.split(".", 2)
            self.counts[f"{service}.{operation}"] += 1


COUNTED_SERVICES = ("dynamodb", "s3", "sqs", "scheduler")
Hook = tuple[str, str, Callable[..., None]]  # (service, botocore event, handler)


def count_requests(counts: Counter[str], *hooks: Hook) -> None:
    """Count every AWS request the service makes from now on into `counts` by `service.Operation`, through
    `aws.install_client_hook` (every client made from now on, whichever code makes it); `hooks`: more botocore
    handlers on the same clients. Ends with `stop_counting()`."""
    from chalicelib import aws

    def count(event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        counts[f"{service}.{operation}"] += 1

    def attach(service: str, client: Any) -> None:
        if service in COUNTED_SERVICES:
            client.meta.events.register("before-call", count)
        for wanted, event, handler in hooks:
            if wanted == service:
                client.meta.events.register(event, handler)

    aws.install_client_hook(attach)


def stop_counting() -> None:
    from chalicelib import aws

    aws.install_client_hook(None)
