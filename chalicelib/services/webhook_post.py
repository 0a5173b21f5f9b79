"""The signed POST of one webhook attempt, its answer classified (`domain/webhooks.py`).

The POST itself (`adapters/pinned_http.py`) connects only to addresses the SSRF check accepted,
never follows a redirect, and is cut off at WEBHOOK_TIMEOUT_SECONDS in total.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from .. import clock
from ..adapters.pinned_http import delivery_target, post
from ..domain import ssrf
from ..domain.messages import WebhookMessage
from ..domain.records import Tenant
from ..domain.webhooks import Outcome, classify, endpoint_key, message_id, retry_after_seconds
from ..domain.webhooks import signature_header as sign
from . import webhooks
from .container import Dependencies

USER_AGENT = "batchcall-webhooks/1"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    url_host: str
    status: int | None = None
    error: str | None = None
    latency_ms: int | None = None
    retry_after: float | None = None


def post_attempt(deps: Dependencies, message: WebhookMessage) -> Attempt:
    """POST the event once, signed with the tenant's current secrets; never raises for the endpoint's faults."""
    settings = deps.settings
    host = host_of(message.url)
    tenant = webhooks.current_secret(deps, message.tenant_id)
    if endpoint_key(message.url) in tenant.disabled_endpoints:
        return Attempt(Outcome.SKIPPED, host, error="endpoint disabled after it answered 410 Gone")
    try:
        target, addresses = delivery_target(message.url, settings)
    except ssrf.UnsafeUrl as exc:
        return Attempt(Outcome.REFUSED, host, error=f"refused: {exc}")
    except OSError as exc:
        return Attempt(Outcome.RETRYING, host, error=f"cannot resolve {host}: {exc}")
    body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False)
    result = post(target, addresses, _headers(message, tenant, body), body.encode(), settings.webhook_timeout_seconds)
    error = result.error
    if result.status is not None and 300 <= result.status < 400:
        error = f"redirect to {host_of(result.location or '') or '(no Location)'} not followed"
    retry_after = None
    if result.status in (429, 503):
        retry_after = retry_after_seconds(result.retry_after, clock.now())
    return Attempt(classify(result.status), target.display_host, result.status, error, result.latency_ms, retry_after)


def _headers(message: WebhookMessage, tenant: Tenant, body: str) -> dict[str, str]:
    """Standard Webhooks headers: id, timestamp and a signature per secret (two while a rotation overlaps)."""
    moment = clock.now().replace(microsecond=0)
    msg_id = message_id(message.event_id)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": sign(webhooks.signing_secrets(tenant, clock.iso(moment)), msg_id, moment, body),
        "x-batchcall-event": message.event,
    }


def host_of(url: str) -> str:
    """The host for the log, never the path or query string (they may carry tokens)."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2][:255]
    except ValueError:
        return ""
