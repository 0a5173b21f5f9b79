"""Outbound HTTP to user-configured URLs (webhooks, HTTP voice agents), safe against SSRF.

The POST connects to the addresses the SSRF check just accepted (never to a second DNS
answer), never follows a redirect, and is cut off at the given timeout in total, however
slowly the receiver drips its answer.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from functools import cache

from ..domain import ssrf
from ..settings import Settings


@dataclass(frozen=True)
class HttpResult:
    status: int | None  # None: no answer (timeout, refused, reset, TLS)
    error: str | None = None
    retry_after: str | None = None
    location: str | None = None
    latency_ms: int = 0
    body: bytes = b""
    sent: bool = False  # the request went out (no answer after that: the receiver may have acted on it)


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Talks to `host` (Host header) at an address already checked, instead of resolving it again."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS verified against the hostname (SNI and certificate), not the address."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=_tls())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = _tls().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def post(
    target: ssrf.Target,
    addresses: list[str],
    headers: dict[str, str],
    body: bytes,
    timeout: float,
    read_limit: int = 0,
) -> HttpResult:
    """One POST, no redirects, within `timeout` seconds in all (a watchdog cuts a receiver that drips its answer)."""
    started = time.monotonic()
    deadline = started + timeout
    error = "no address to connect to"
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    for address in addresses:  # the next address only when connecting failed: nothing was sent yet
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        conn = kind(target.host, target.port, address, remaining)
        try:
            conn.connect()
        except OSError as exc:
            error = _describe(exc, started, timeout)
            conn.close()
            continue
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, (conn.sock,))
        watchdog.start()
        try:
            conn.request("POST", target.path, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read(read_limit) if read_limit else b""
            return HttpResult(
                response.status,
                body=answer,
                retry_after=response.getheader("Retry-After"),
                location=response.getheader("Location"),
                latency_ms=_ms(started),
            )
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return HttpResult(None, _describe(exc, started, timeout), latency_ms=_ms(started), sent=True)
        finally:
            watchdog.cancel()
            conn.close()
    return HttpResult(None, error, latency_ms=_ms(started))


def _cut(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _describe(exc: BaseException, started: float, timeout: float) -> str:
    if isinstance(exc, TimeoutError) or time.monotonic() - started >= timeout:
        return f"timed out after {timeout:g} s"
    return f"{type(exc).__name__}: {exc}"[:300]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (socket.gaierror when it does not)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def delivery_target(url: str, settings: Settings) -> tuple[ssrf.Target, list[str]]:
    """Where to connect for a webhook, checked just before connecting (UnsafeUrl, or gaierror when unresolvable).

    The sender connects to exactly these addresses, so a DNS answer that changes after the
    check (rebinding) is never used.
    """
    target = ssrf.parse_target(url, allow_private=settings.webhook_allow_private)
    return target, ssrf.addresses_to_connect(target, resolve, allow_private=settings.webhook_allow_private)
