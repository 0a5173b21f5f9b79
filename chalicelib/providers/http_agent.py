"""A voice agent behind a single-call HTTP API (Bolna-, Bland- or home-made).

Placing a call is one JSON POST to the agent's endpoint with a bearer token, through the same
SSRF-safe client as webhooks, with `Idempotency-Key: <execution id>` so a retried request
cannot dial twice at a provider that honours it. The voice agent reports back to
`POST /providers/http/events?execution_id=...`, signed per the Standard Webhooks spec
(HMAC-SHA256 over id, timestamp and body; a stale timestamp is refused) with the
`signing_secret` of the agent's credentials; its fields are read through the agent's mapping.

The signature does not cover the URL, so the signed body must say which call it is about: our
execution id echoed (`reference`) or the provider's call id (`call_id`) we recorded at placement.
Every identifier the body carries must be this call's, and at least one must be there to check;
a callback for a call whose id was never recorded (the dialer died after placing it) is bound by
our execution id alone. Its webhook-id is remembered per signing account, not per execution.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from ..adapters.pinned_http import delivery_target, post
from ..adapters.secrets import Secrets
from ..domain import extraction, json_input, ssrf
from ..domain.extraction import ExtractionField
from ..domain.json_input import JsonObject
from ..domain.messages import ProviderEvent
from ..domain.provider_config import HttpAgentConfig, dig, put
from ..domain.records import Agent, Execution
from ..settings import Settings
from .base import Callback, CallRequest, Failure, ForgedCallback, ProviderError, ReadCallback

KEYS_PLACE = ("token",)
KEYS_VERIFY = ("signing_secret",)
USER_AGENT = "batchcall-dialer/1"
MAX_ANSWER_BYTES = 64 * 1024
TRANSFER_FIELDS = (  # Bolna's transfer_call_data, kept as reported (its documented keys only)
    "provider_call_id",
    "status",
    "duration",
    "cost",
    "to_number",
    "from_number",
    "recording_url",
    "hangup_by",
    "hangup_reason",
    "hangup_provider_code",
)


class HttpAgentProvider:
    name = "http"

    def __init__(self, secrets: Secrets, settings: Settings) -> None:
        self._secrets = secrets
        self._settings = settings

    def payload(
        self, request: CallRequest, config: HttpAgentConfig, schema: list[ExtractionField] | None = None
    ) -> JsonObject:
        values: JsonObject = {
            "to": request.to_number,
            "from": request.from_number,
            "agent": config.agent_ref,
            "variables": request.variables,
            "reference": request.execution_id,
            "callback_url": request.callback_url,
            "welcome_message": request.welcome_message,
            "prompt": request.prompt,
        }
        body: JsonObject = {}
        for name, value in values.items():
            path = config.request_field(name)
            if path and value not in (None, ""):
                put(body, path, value)
        for name, value in extraction.request_fields(schema or [], config.extraction_format).items():
            body.setdefault(name, value)
        return body

    def place_call(self, request: CallRequest, agent: Agent) -> str:
        config = HttpAgentConfig.model_validate(agent.provider_config or {})
        token = self._secrets.get(request.tenant_id, config.credentials, KEYS_PLACE)["token"]
        try:
            target, addresses = delivery_target(config.endpoint, self._settings)
        except ssrf.UnsafeUrl as exc:
            raise ProviderError(Failure.REJECTED, f"endpoint refused: {exc}") from None
        except (OSError, socket.gaierror) as exc:
            raise ProviderError(Failure.TRANSIENT, f"endpoint does not resolve: {exc}") from None
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": request.execution_id,
            "User-Agent": USER_AGENT,
        }
        schema = extraction.parse_schema(agent.extraction_schema)
        body = json.dumps(self.payload(request, config, schema), ensure_ascii=False).encode()
        result = post(
            target, addresses, headers, body, self._settings.provider_timeout_seconds, read_limit=MAX_ANSWER_BYTES
        )
        if result.status is None:
            if result.sent:  # connected and sent: the agent may have placed the call
                raise ProviderError(Failure.UNKNOWN, f"voice agent did not answer: {result.error}")
            raise ProviderError(Failure.TRANSIENT, f"voice agent unreachable: {result.error}")
        answer = _json(result.body)
        if result.status == 429:
            raise ProviderError(Failure.RATE_LIMITED, "voice agent: too many requests", _seconds(result.retry_after))
        if result.status >= 500:
            raise ProviderError(Failure.TRANSIENT, f"voice agent answered {result.status}")
        if not 200 <= result.status < 300:
            reason = _message(answer) or f"voice agent answered {result.status}"
            raise ProviderError(Failure.REJECTED, f"{result.status}: {reason}")
        call_id = dig(answer, config.call_id_field) or answer.get("execution_id") or answer.get("id")
        return str(call_id or request.execution_id)

    def idempotent(self, agent: Agent) -> bool:
        return HttpAgentConfig.model_validate(agent.provider_config or {}).idempotent

    def read_callback(self, callback: Callback, execution: Execution, agent: Agent) -> ReadCallback:
        execution_id, tenant_id = execution.execution_id, execution.tenant_id
        config = HttpAgentConfig.model_validate(agent.provider_config or {})
        secret = self._secrets.get(tenant_id, config.credentials, KEYS_VERIFY)["signing_secret"]
        try:
            data = Webhook(secret).verify(callback.body, dict(callback.headers))
        except (WebhookVerificationError, ValueError) as exc:  # ValueError: a body that is not UTF-8 JSON
            raise ForgedCallback(str(exc)[:200]) from None
        if not isinstance(data, dict):
            raise ForgedCallback("the body is not a JSON object")

        def field(name: str) -> Any:
            path = config.event_field(name)
            return dig(data, path) if path else None  # "" drops the field

        call_id = _identifier(field("call_id"))
        require_same_call(execution, _identifier(field("reference")), call_id)
        key = "http:" + callback.headers.get("webhook-id", "")
        signer = f"{tenant_id}#{self.name}#{config.credentials}"
        status = config.status(field("status"))
        if status is None:
            return ReadCallback(key, [], signer)
        event = ProviderEvent.of(
            execution_id,
            self.name,
            call_id or "",
            status,
            conversation_duration=_number(field("duration")),
            total_cost=_number(field("cost")),
            transcript=_text(field("transcript")),
            recording_url=_text(field("recording_url")),
            answered_by_voice_mail=bool(field("voicemail")) if field("voicemail") is not None else None,
            error_message=_text(field("error")),
            hangup_reason=_text(field("hangup_reason")),
            **_details(field),
            opt_out=True if _flag(field("opt_out")) else None,
        )
        return ReadCallback(key, [event], signer)


def _details(field: Callable[[str], Any]) -> dict[str, Any]:
    """Bolna's richer fields, when the voice agent reports them: checked against the schema later, at the end."""
    details: dict[str, Any] = {
        "extracted_data": field("extracted_data"),
        "summary": _text(field("summary")),
        "hangup_by": _text(field("hangup_by")),
        "hangup_provider_code": _code(field("hangup_provider_code")),
        "ring_duration": _number(field("ring_duration")),
        "telephony_duration": _number(field("telephony_duration")),
        "post_dial_delay": _number(field("post_dial_delay")),
    }
    breakdown = field("cost_breakdown")
    if isinstance(breakdown, dict):
        numbers = {str(k)[:64]: _number(v) for k, v in list(breakdown.items())[:20]}
        details["cost_breakdown"] = {k: v for k, v in numbers.items() if v is not None} or None
    transfer = field("transfer_call_data")
    if isinstance(transfer, dict):
        details["transfer_call_data"] = {k: extraction.bounded(transfer.get(k)) for k in TRANSFER_FIELDS}
    return details


def _code(value: Any) -> int | str | None:
    """A hangup code as reported: Bolna's are numbers (4000), SIP's too, some providers' are text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    code = _identifier(value)
    return code[:64] if code else None


def require_same_call(execution: Execution, reference: str | None, call_id: str | None) -> None:
    """Refuse a signed body that is not about this execution's call (it may be another call's, re-posted here)."""
    recorded = execution.provider_call_id or None
    if reference is not None and reference != execution.execution_id:
        raise ForgedCallback("the callback names another execution")
    if call_id is not None and recorded is not None and call_id != recorded:
        raise ForgedCallback("the callback names another call")
    if reference is None and (call_id is None or recorded is None):
        raise ForgedCallback("the callback names neither this execution nor its recorded call id")


def _identifier(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, (dict, list, bool)):
        return None
    return str(value)


def _json(body: bytes) -> JsonObject:
    try:
        data = json_input.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _message(answer: JsonObject) -> str:
    for name in ("message", "error", "detail", "errors"):
        if answer.get(name):
            return str(answer[name])[:300]
    return ""


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _flag(value: Any) -> bool:
    """A yes in JSON or as text (`true`, `1`, `yes`): agents differ in how they send booleans."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return value is True or value == 1


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
