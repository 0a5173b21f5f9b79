"""Webhook deliveries per second to a receiver on 127.0.0.1, at the sender's reserved concurrency.

The worker function (`handle_webhook`) runs in N threads, N = `reserved_concurrency` of
`webhook_sender` in .chalice/config.json, as N Lambda instances would: claim, tenant secret,
SSRF check, Standard Webhooks signature, the real HTTP POST, delivery log, settle. DynamoDB
is moto in-process (serialised writes, as in the tests), so a second figure gives the cost
of signing + POST alone, and the AWS requests per delivery are counted.

Run: .venv/bin/python bench/webhooks.py [--events 2000] [--receiver-ms 0]
     .venv/bin/python bench/webhooks.py --smoke     # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "STAGE": "bench",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


class Receiver:
    def __init__(self, delay_s: float) -> None:
        self.count = 0
        self.bodies: list[tuple[dict[str, str], str]] = []
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                if delay_s:
                    time.sleep(delay_s)  # the receiver's own work, simulated
                with lock:
                    receiver.count += 1
                    if len(receiver.bodies) < 20:
                        receiver.bodies.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def reserved_concurrency() -> int:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return int(config["stages"]["dev"]["lambda_functions"]["webhook_sender"]["reserved_concurrency"])


def payload(i: int) -> dict[str, Any]:
    """About the size of a real execution object with a short transcript (~1 KB)."""
    return {
        "id": f"{i:032x}",
        "batch_id": "b" * 32,
        "agent_id": "a" * 32,
        "status": "completed",
        "user_number": f"+1202555{i % 10000:04d}",
        "from_number": "+12025550147",
        "attempt": 1,
        "retry_count": 0,
        "retry_history": [],
        "conversation_duration": 42.0,
        "total_cost": 3.26,
        "transcript": "agent: Hello Asha, this is Acme calling about your plan.\nuser: Hi! " * 8,
        "answered_by_voice_mail": False,
        "context_details": {"recipient_data": {"customer_name": "Asha", "plan": "gold"}},
    }


def run(events: int, receiver_ms: float) -> None:
    from moto import mock_aws
    from standardwebhooks import Webhook

    from chalicelib import aws
    from chalicelib.adapters.pinned_http import delivery_target, post
    from chalicelib.domain import webhooks as rules
    from chalicelib.domain.messages import WebhookMessage
    from chalicelib.domain.webhooks import signing_secrets
    from chalicelib.services.container import Dependencies
    from chalicelib.services.webhooks import current_secret
    from chalicelib.settings import get_settings
    from chalicelib.workers.webhook_sender import handle_webhook
    from local.bootstrap import create_resources
    from local.fidelity import serialize_dynamodb_writes

    threads = reserved_concurrency()
    receiver = Receiver(receiver_ms / 1000)
    serialize_dynamodb_writes()
    with mock_aws():
        settings = get_settings()
        create_resources(settings)
        deps = Dependencies.build(settings)
        secret = current_secret(deps, "bench").webhook_secret
        requests: Counter[str] = Counter()
        aws.dynamodb().meta.events.register(
            "before-call.dynamodb.*", lambda model, **_: requests.update([f"dynamodb.{model.name}"])
        )
        aws.sqs().meta.events.register("before-call.sqs.*", lambda model, **_: requests.update([f"sqs.{model.name}"]))
        messages = [
            WebhookMessage(
                event_id=rules.event_id("bench", str(i)),
                event="call.ended",
                tenant_id="bench",
                batch_id=f"batch-{i % 50}",
                url=receiver.url,
                payload=payload(i),
                created_at="2026-11-22T12:00:00.000Z",
            )
            for i in range(events)
        ]
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda m: handle_webhook(deps, m), messages))
        worker_s = time.perf_counter() - started
        assert receiver.count == events, (receiver.count, events)
        for headers, body in receiver.bodies:
            Webhook(secret).verify(body, headers)

        # The same POSTs without the store: SSRF check, signing and HTTP only.
        tenant = current_secret(deps, "bench")
        target, addresses = delivery_target(receiver.url, settings)

        def sign_and_post(message: WebhookMessage) -> None:
            from datetime import UTC, datetime

            body = json.dumps(message.payload, separators=(",", ":"))
            now = datetime.now(UTC).replace(microsecond=0)
            headers = {
                "Content-Type": "application/json",
                "webhook-id": rules.message_id(message.event_id),
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": rules.signature_header(signing_secrets(tenant, "x"), "m", now, body),
            }
            delivery_target(receiver.url, settings)
            assert post(target, addresses, headers, body.encode(), 10).status == 204

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(sign_and_post, messages))
        transport_s = time.perf_counter() - started

    per = {op: n / events for op, n in sorted(requests.items())}
    print(f"webhook sender, {events} events, {threads} threads (reserved concurrency), receiver +{receiver_ms:g} ms")
    print(f"  worker (claim, sign, POST, log, settle; moto DynamoDB): {events / worker_s:,.0f} deliveries/s")
    print(f"  SSRF check + sign + POST only:                           {events / transport_s:,.0f} deliveries/s")
    print(f"  AWS requests per delivery: {', '.join(f'{op} {n:g}' for op, n in per.items())}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--receiver-ms", type=float, default=0, help="time the receiver takes per request")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script, measures nothing")
    args = parser.parse_args()
    run(50 if args.smoke else args.events, args.receiver_ms)


if __name__ == "__main__":
    main()
