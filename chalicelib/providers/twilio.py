"""Twilio Programmable Voice through the official `twilio` SDK.

A call is created with a status callback for initiated, ringing, answered and completed, and
with answering-machine detection, so a voicemail is told from a person (the retry rules use
it). Callbacks are accepted only with a valid `X-Twilio-Signature`, checked by the SDK's
RequestValidator against the public URL the call was given, and only from the account that
placed the call.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from functools import lru_cache
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import Connect, VoiceResponse
from urllib3.exceptions import NewConnectionError

from ..adapters.secrets import Secrets
from ..domain.json_input import JsonObject
from ..domain.messages import ProviderEvent
from ..domain.provider_config import TWILIO_STATUS, TwilioConfig, twilio_voicemail
from ..domain.records import Agent, Execution
from ..settings import Settings
from .base import Callback, CallRequest, Failure, ForgedCallback, ProviderError, ReadCallback

TWILIO_API = "https://api.twilio.com"
KEYS = ("account_sid", "auth_token")
RATE_LIMIT_CODES = {20429}  # "Too Many Requests"; 429 is also the HTTP status
CALLBACK_EVENTS = ["initiated", "ringing", "answered", "completed"]

# The SDK logs request bodies (phone numbers) at INFO: keep only its warnings.
_quiet = logging.getLogger("batchcall.twilio")
_quiet.setLevel(logging.WARNING)


class _HttpClient(TwilioHttpClient):
    """The SDK's client, pointed at TWILIO_API_BASE_URL when set, remembering Retry-After per thread."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=_quiet)
        self._base = base_url.rstrip("/")
        self.last = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self._base and url.startswith(TWILIO_API):
            url = self._base + url[len(TWILIO_API) :]
        self.last.retry_after = None
        response = super().request(method, url, *args, **kwargs)
        self.last.retry_after = (response.headers or {}).get("Retry-After")
        return response


def _maybe_placed(exc: Exception) -> bool:
    """The request reached Twilio but its answer did not reach us (read timeout, connection lost mid-answer):
    Twilio may have created the call. A connect timeout or a refused connection sent nothing."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        return not isinstance(getattr(reason, "reason", reason), NewConnectionError)
    return isinstance(exc, (requests.Timeout, requests.exceptions.ChunkedEncodingError))


def twiml(config: TwilioConfig, welcome_message: str) -> str:
    response = VoiceResponse()
    if config.stream_url:
        connect = Connect()
        connect.stream(url=config.stream_url)
        response.append(connect)
    else:
        response.say(welcome_message or "Hello.")
    return str(response)


class TwilioProvider:
    name = "twilio"

    def __init__(self, secrets: Secrets, settings: Settings) -> None:
        self._secrets = secrets
        self._settings = settings

    @lru_cache(maxsize=64)  # noqa: B019 - one client (and connection pool) per account, for the process's life
    def _client(self, account_sid: str, auth_token: str) -> tuple[Client, _HttpClient]:
        http = _HttpClient(self._settings.twilio_api_base_url, self._settings.provider_timeout_seconds)
        return Client(account_sid, auth_token, http_client=http), http

    def _credentials(self, tenant_id: str, config: TwilioConfig) -> dict[str, str]:
        return self._secrets.get(tenant_id, config.credentials, KEYS)

    def place_call(self, request: CallRequest, agent: Agent) -> str:
        config = TwilioConfig.model_validate(agent.provider_config or {})
        if not request.from_number:
            raise ProviderError(Failure.REJECTED, "Twilio needs a caller ID: set from_phone_numbers")
        creds = self._credentials(request.tenant_id, config)
        client, http = self._client(creds["account_sid"], creds["auth_token"])
        params: JsonObject = {
            "to": request.to_number,
            "from_": request.from_number,
            "status_callback": request.callback_url,
            "status_callback_event": CALLBACK_EVENTS,
            "status_callback_method": "POST",
            "timeout": config.ring_timeout_seconds,
        }
        if config.twiml_url:
            params["url"] = config.twiml_url
        else:
            params["twiml"] = twiml(config, request.welcome_message)
        if config.machine_detection:
            params["machine_detection"] = "Enable"
        if config.record:
            params["record"] = True
        try:
            call = client.calls.create(**params)
        except TwilioRestException as exc:
            raise _failure(exc, getattr(http.last, "retry_after", None)) from None
        except (requests.RequestException, TwilioException) as exc:
            if _maybe_placed(exc):
                raise ProviderError(Failure.UNKNOWN, f"Twilio did not answer: {type(exc).__name__}") from None
            raise ProviderError(Failure.TRANSIENT, f"Twilio unreachable: {type(exc).__name__}") from None
        return str(call.sid)

    def idempotent(self, agent: Agent) -> bool:
        return False  # Twilio's Calls API takes no idempotency key: a lost placement is never re-placed

    def read_callback(self, callback: Callback, execution: Execution, agent: Agent) -> ReadCallback:
        # The signature covers the URL, hence our execution id: a callback cannot be moved to another call.
        execution_id = execution.execution_id
        config = TwilioConfig.model_validate(agent.provider_config or {})
        creds = self._credentials(execution.tenant_id, config)
        params = callback.form()
        signature = callback.headers.get("x-twilio-signature", "")
        if not signature or not RequestValidator(creds["auth_token"]).validate(callback.url, params, signature):
            raise ForgedCallback("X-Twilio-Signature does not match")
        if params.get("AccountSid") != creds["account_sid"]:
            raise ForgedCallback("the callback is for another Twilio account")
        status = TWILIO_STATUS.get(params.get("CallStatus", ""))
        if status is None:
            return ReadCallback(_replay_key(signature), [])
        duration = params.get("CallDuration")
        event = ProviderEvent.of(
            execution_id,
            self.name,
            params.get("CallSid", ""),
            status,
            conversation_duration=int(duration) if duration and duration.isdigit() else None,
            answered_by_voice_mail=twilio_voicemail(params.get("AnsweredBy")) if params.get("AnsweredBy") else None,
            recording_url=params.get("RecordingUrl") or None,
            error_message=_callback_error(params) if status in ("failed", "error") else None,
            hangup_reason=params.get("CallStatus") if status in ("busy", "no-answer", "failed", "canceled") else None,
        )
        return ReadCallback(_replay_key(signature), [event])


def _replay_key(signature: str) -> str:
    # A valid signature covers the URL and every parameter, so equal signatures mean the same callback.
    return "twilio:" + hashlib.sha256(signature.encode()).hexdigest()[:32]


def _callback_error(params: dict[str, str]) -> str | None:
    code, message = params.get("ErrorCode"), params.get("ErrorMessage")
    return f"Twilio {code}: {message or ''}".strip() if code else None


def _failure(exc: TwilioRestException, retry_after: str | None) -> ProviderError:
    message = f"Twilio {exc.code or exc.status}: {exc.msg}"
    if exc.status == 429 or exc.code in RATE_LIMIT_CODES:
        seconds = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None
        return ProviderError(Failure.RATE_LIMITED, message, seconds)
    if exc.status >= 500:
        return ProviderError(Failure.TRANSIENT, message)
    return ProviderError(Failure.REJECTED, message)
