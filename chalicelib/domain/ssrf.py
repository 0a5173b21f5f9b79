"""Which webhook URLs and addresses the service may POST to (SSRF rules), with no I/O.

A webhook URL is chosen by a tenant, so without these rules it could make the service
reach what only the service can: the cloud metadata endpoint (credentials), the Lambda
runtime API on loopback, or hosts inside a VPC. The caller resolves the host and passes
every address; all of them must pass, since the connection may use any.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance/task metadata services: credentials live there, so they are refused even when private
# addresses are allowed (AWS IMDS v4 and v6, ECS task metadata, Alibaba Cloud).
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
# Private ranges proper: only these (and loopback) are let through by allow_private, not every
# range Python calls is_private (which also covers 0/8, the TEST-NETs, 240/4 ...).
PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
# IANA special-purpose ranges that are not globally reachable, listed here because Python's is_global
# differs between patch releases (3.11.7 misses 192.0.0.0/24); is_global is still checked as well.
RESERVED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fec0::/10",
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: the low 32 bits are an IPv4 address
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d


_HOSTNAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))  # quote() then encodes only what is not ASCII


class UnsafeUrl(ValueError):
    """The URL (or an address its host resolves to) is one webhooks may not reach."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL, brackets removed from an IPv6 literal
    port: int
    path: str  # path and query, what goes on the request line

    @property
    def display_host(self) -> str:
        """Host (and a non-default port) for logs: never the path or query, which may carry tokens."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_target(url: str, *, allow_private: bool) -> Target:
    """Scheme, host and port of a webhook URL; https only unless private targets are allowed.

    The host comes back in ASCII (IDNA) and the path percent-encoded, as they go on the wire.
    """
    text = url.strip()
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise UnsafeUrl("must not contain spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_private else ("https",)
    if scheme not in allowed:
        raise UnsafeUrl("must be an https:// URL" if not allow_private else "must be an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("must not carry credentials (user:password@); put a token in the path or query instead")
    host = _ascii_host((parts.hostname or "").rstrip("."))
    path = quote(parts.path or "/", safe=_PRINTABLE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PRINTABLE)
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def _ascii_host(host: str) -> str:
    if not host:
        raise UnsafeUrl("has no host")
    if literal_address(host) is not None:
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UnsafeUrl("has an invalid host name") from None
    if not _HOSTNAME.fullmatch(ascii_host):
        raise UnsafeUrl("has an invalid host name")
    return ascii_host


def literal_address(host: str) -> IPAddress | None:
    """The address a host names by itself (an IP literal), else None: it then needs resolving."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def refusal(address: str | IPAddress, *, allow_private: bool) -> str | None:
    """Why a webhook may not go to this address, or None when it may."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = refusal(embedded, allow_private=allow_private)
            if reason:
                return f"an IPv6 form of {embedded}, {reason}"
            if ip.ipv4_mapped is not None or ip in NAT64:
                return None  # that IPv4 address itself (directly, or through a NAT64 gateway)
    for applies, reason, private in _RULES:
        if applies(ip):
            return None if private and allow_private else reason
    return None


# In order: the first rule that applies decides. `private` rules are waived by allow_private.
_RULES: tuple[tuple[Callable[[IPAddress], bool], str, bool], ...] = (
    (lambda ip: ip in METADATA, "a cloud metadata address", False),
    (lambda ip: ip.is_unspecified, "an unspecified address", False),
    (lambda ip: ip.is_loopback, "a loopback address", True),
    (lambda ip: ip.is_link_local, "a link-local address", False),
    (lambda ip: ip.is_multicast, "a multicast address", False),
    (lambda ip: ip in SHARED, "a shared (carrier-grade NAT) address", False),
    (lambda ip: any(ip in network for network in PRIVATE), "a private address", True),
    (
        lambda ip: any(ip in network for network in RESERVED) or ip.is_reserved or ip.is_private or not ip.is_global,
        "a reserved address",
        False,
    ),
)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4, Teredo client, compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def check_addresses(addresses: Iterable[str], *, allow_private: bool) -> list[str]:
    """All resolved addresses must pass: returns them (deduplicated, in order) for the connection."""
    unique = list(dict.fromkeys(addresses))
    if not unique:
        raise UnsafeUrl("resolves to no address")
    for address in unique:
        reason = refusal(address, allow_private=allow_private)
        if reason:
            raise UnsafeUrl(f"resolves to {address}, {reason}")
    return unique


def addresses_to_connect(
    target: Target, resolve: Callable[[str, int], Iterable[str]], *, allow_private: bool
) -> list[str]:
    """Where to connect for a parsed target: its literal address, else what `resolve(host, port)` answers
    (DNS, asked only for a name; its OSError passes through); every address checked (UnsafeUrl)."""
    literal = literal_address(target.host)
    addresses = [str(literal)] if literal else resolve(target.host, target.port)
    return check_addresses(addresses, allow_private=allow_private)


def check(url: str, resolved: Iterable[str], *, allow_private: bool) -> tuple[Target, list[str]]:
    """The whole rule: a URL and the addresses its host resolved to -> where to connect, or UnsafeUrl."""
    target = parse_target(url, allow_private=allow_private)
    return target, addresses_to_connect(target, lambda host, port: resolved, allow_private=allow_private)
