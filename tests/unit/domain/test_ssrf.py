"""SSRF rules for webhook URLs and the addresses their hosts resolve to, with no I/O."""

from __future__ import annotations

import pytest

from chalicelib.domain.ssrf import (
    Target,
    UnsafeUrl,
    addresses_to_connect,
    check,
    check_addresses,
    parse_target,
    refusal,
)

REFUSED_ALWAYS = [
    # cloud metadata, in every form
    ("169.254.169.254", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("100.100.100.200", "metadata"),
    ("::ffff:169.254.169.254", "metadata"),
    ("::ffff:a9fe:a9fe", "metadata"),
    ("64:ff9b::a9fe:a9fe", "metadata"),
    # link-local, multicast, unspecified, shared, reserved
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("100.64.0.1", "shared"),
    ("100.127.255.254", "shared"),
    ("0.1.2.3", "reserved"),
    ("192.0.0.8", "reserved"),
    ("192.88.99.1", "reserved"),
    ("fec0::1", "reserved"),
    ("3fff::1", "reserved"),
    ("192.0.2.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("198.51.100.7", "reserved"),
    ("203.0.113.9", "reserved"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("2001:db8::1", "reserved"),
    ("100::1", "reserved"),
    ("::ffff:100.64.0.1", "shared"),
    ("::ffff:224.0.0.1", "multicast"),
    ("2002:a9fe:a9fe::", "metadata"),  # 6to4 of the metadata address
    ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "reserved"),  # Teredo, even of a public 8.8.8.8
    ("::8.8.8.8", "reserved"),  # deprecated IPv4-compatible form
]
PRIVATE_OR_LOOPBACK = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:7f00:1", "loopback"),
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("::ffff:10.1.2.3", "private"),
    ("::ffff:192.168.0.1", "private"),
]
PUBLIC = [
    "8.8.8.8",
    "93.184.216.34",
    "172.32.0.1",  # just outside 172.16/12
    "100.128.0.1",  # just outside 100.64/10
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of a public address
]


@pytest.mark.parametrize(("address", "kind"), REFUSED_ALWAYS)
def test_refused_whatever_the_setting(address: str, kind: str) -> None:
    for allow_private in (False, True):
        reason = refusal(address, allow_private=allow_private)
        assert reason is not None and kind in reason, (address, allow_private, reason)


@pytest.mark.parametrize(("address", "kind"), PRIVATE_OR_LOOPBACK)
def test_private_and_loopback_only_when_allowed(address: str, kind: str) -> None:
    reason = refusal(address, allow_private=False)
    assert reason is not None and kind in reason
    assert refusal(address, allow_private=True) is None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(address, allow_private=False) is None


def test_ipv6_forms_name_the_ipv4_address_they_stand_for() -> None:
    assert refusal("::ffff:127.0.0.1", allow_private=False) == "an IPv6 form of 127.0.0.1, a loopback address"


def test_https_only_unless_private_targets_are_allowed() -> None:
    with pytest.raises(UnsafeUrl, match="must be an https:// URL"):
        parse_target("http://hooks.example.com/x", allow_private=False)
    assert parse_target("http://127.0.0.1:8080/x", allow_private=True) == Target("http", "127.0.0.1", 8080, "/x")
    for url in ("ftp://x/", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)", "hooks.example.com/x"):
        with pytest.raises(UnsafeUrl):
            parse_target(url, allow_private=True)


def test_targets_keep_path_and_query_and_default_ports() -> None:
    assert parse_target("https://Hooks.Example.com./a/b?x=1&y=2", allow_private=False) == Target(
        "https", "hooks.example.com", 443, "/a/b?x=1&y=2"
    )
    target = parse_target("https://[2606:4700::1]:8443", allow_private=False)
    assert (target.host, target.port, target.path, target.display_host) == (
        "2606:4700::1",
        8443,
        "/",
        "[2606:4700::1]:8443",
    )
    assert parse_target("https://h.example.com/?t=secret", allow_private=False).display_host == "h.example.com"


@pytest.mark.parametrize(
    "url", ["https://user@h.example.com/", "https://u:p@h.example.com/", "https://h:99999/", "https:///"]
)
def test_malformed_or_credentialed_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        parse_target(url, allow_private=False)


def test_every_resolved_address_must_pass() -> None:
    # a name answering one public and one internal address could be connected to either
    with pytest.raises(UnsafeUrl, match=r"resolves to 10\.0\.0\.1, a private address"):
        check_addresses(["93.184.216.34", "10.0.0.1"], allow_private=False)
    with pytest.raises(UnsafeUrl, match="resolves to no address"):
        check_addresses([], allow_private=False)
    assert check_addresses(["93.184.216.34", "93.184.216.34", "2606:2800::1"], allow_private=False) == [
        "93.184.216.34",
        "2606:2800::1",
    ]


def test_an_ip_literal_host_is_checked_itself_not_the_resolver_answer() -> None:
    with pytest.raises(UnsafeUrl, match="metadata"):
        check("https://169.254.169.254/latest/meta-data/", ["93.184.216.34"], allow_private=False)
    with pytest.raises(UnsafeUrl, match="metadata"):
        check("http://[fd00:ec2::254]/", [], allow_private=True)
    target, addresses = check("https://hooks.example.com/x", ["93.184.216.34"], allow_private=False)
    assert (target.host, addresses) == ("hooks.example.com", ["93.184.216.34"])


def test_hosts_and_paths_are_put_in_their_wire_form() -> None:
    target = parse_target("https://bücher.example/häuser?q=ä&x=1", allow_private=False)
    assert (target.host, target.path) == ("xn--bcher-kva.example", "/h%C3%A4user?q=%C3%A4&x=1")
    assert parse_target("https://h.example/a%20b?c=%2F", allow_private=False).path == "/a%20b?c=%2F"


@pytest.mark.parametrize(
    "url",
    [
        "https://h.example/a b",
        "https://h.example/\r\nX-Injected: 1",
        "https://h\x00.example/",
        "https://a..b/",
        "https://a$b.example/",
    ],
)
def test_spaces_control_characters_and_bad_host_names_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        parse_target(url, allow_private=False)


def test_addresses_to_connect_asks_dns_only_for_a_name_and_checks_every_answer() -> None:
    # Given a resolver that records what it is asked
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.216.34", "10.0.0.5"]

    # When the target is a literal address, DNS is not asked
    literal = parse_target("https://93.184.216.34/hook", allow_private=False)
    assert addresses_to_connect(literal, resolve, allow_private=False) == ["93.184.216.34"]
    assert asked == []
    # When it is a name, DNS is asked once and a private answer among the public ones refuses the URL
    named = parse_target("https://hooks.example.com:8443/x", allow_private=False)
    with pytest.raises(UnsafeUrl, match=r"10\.0\.0\.5"):
        addresses_to_connect(named, resolve, allow_private=False)
    assert asked == [("hooks.example.com", 8443)]
