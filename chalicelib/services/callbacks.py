"""Providers' status callbacks: accepted only when genuine, new and for a call the provider was given.

The execution id rides in the callback URL we gave the provider, so the callback finds its
execution and tenant, hence the credentials to verify it with; the provider then checks that the
signed callback is about that execution's call. A forged, tampered, replayed or misdirected
callback is refused with 403 and changes nothing. A genuine one becomes events on the events
queue, where the provider_events worker applies them forward-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..adapters.secrets import MissingSecret
from ..domain.records import Agent, Execution
from ..errors import Forbidden, NotFound
from ..observability import count, logger
from ..providers.base import Callback, ForgedCallback, ReadCallback
from ..resources import PROVIDER_EVENTS_QUEUE
from .container import Dependencies

REFUSED = "the callback is not signed by the provider for this call"


def receive(
    deps: Dependencies,
    provider_name: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    base_url: str | None = None,
) -> int:
    """Verify and enqueue one callback; returns how many events it carried.

    `base_url` is the API's public URL as this request reached it, used when PUBLIC_BASE_URL is unset.
    """
    provider = deps.providers.get(provider_name)
    if provider is None or provider_name == "simulator":
        raise NotFound(f"no provider {provider_name!r} takes callbacks", code="unknown_provider")
    execution_id = query.get("execution_id") or ""
    if set(query) != {"execution_id"}:
        raise Forbidden(REFUSED)  # we never give a provider any other query parameter
    execution = deps.executions.find(execution_id)
    if execution is None or execution.provider != provider_name:
        raise Forbidden(REFUSED)
    try:
        agent = deps.agents.get(execution.tenant_id, execution.agent_id)
    except NotFound:  # deleted since: verify with the default credentials name
        agent = Agent(tenant_id=execution.tenant_id, agent_id=execution.agent_id, provider=provider_name)
    callback = Callback(deps.settings.callback_url(provider_name, execution_id, base_url), headers, body)
    try:
        read = provider.read_callback(callback, execution, agent)
    except ForgedCallback as exc:
        count("CallbacksRefused")
        logger.warning("callback refused", extra={"provider": provider_name, "reason": str(exc)})
        raise Forbidden(REFUSED) from None
    except MissingSecret as exc:
        logger.error("cannot verify a callback", extra={"provider": provider_name, "reason": str(exc)})
        raise Forbidden(REFUSED) from None
    if _seen(deps, read, execution):
        count("CallbacksReplayed")
        raise Forbidden("this callback was already received")
    for event in read.events:
        deps.queues.send(PROVIDER_EVENTS_QUEUE, event)
    # Remembered only once its events are queued: a crash in between lets the provider's retry through.
    if read.signer:
        deps.callback_receipts.remember(read.signer, read.replay_key)
    else:
        deps.executions.remember_callback(execution_id, read.replay_key)
    return len(read.events)


def _seen(deps: Dependencies, read: ReadCallback, execution: Execution) -> bool:
    """Per signer when the signature does not name the execution (the same id on any call is a replay)."""
    if read.signer:
        return deps.callback_receipts.seen(read.signer, read.replay_key)
    return read.replay_key in (execution.callbacks or ())


def lower_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def public_base(configured: str, headers: Mapping[str, str], stage: str | None) -> str | None:
    """The URL a provider called: PUBLIC_BASE_URL, else API Gateway's host and stage (no custom domain)."""
    if configured:
        return None  # the settings' value is used
    host = headers.get("host")
    if not host:
        return None
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    return f"{scheme}://{host}" + (f"/{stage}" if stage else "")
