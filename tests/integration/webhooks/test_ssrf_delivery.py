"""SSRF rules where they bite: when a URL is configured, and again just before every POST."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.webhooks import call_event_id
from chalicelib.errors import BadRequest
from chalicelib.services.container import Dependencies
from chalicelib.services.webhooks import emit_call_event, validate_webhook_url
from tests.support.pump import Pump
from tests.support.webhooks import Receiver, create_batch, execution, log

REAL_GETADDRINFO = socket.getaddrinfo


class FakeDns:
    """`socket.getaddrinfo` for names under .example.test; counts the look-ups of each name."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.lookups: dict[str, int] = {}

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".example.test"):
            self.lookups[host] = self.lookups.get(host, 0) + 1
            if host not in self.answers:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            family = {4: socket.AF_INET, 6: socket.AF_INET6}
            return [(family[6 if ":" in a else 4], socket.SOCK_STREAM, 6, "", (a, port)) for a in self.answers[host]]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "10.1.2.3", "::1", "::ffff:169.254.169.254"])
def test_a_name_resolving_to_an_internal_address_is_refused_at_delivery(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, dns: FakeDns, address: str
) -> None:
    # Given a production configuration (https only, no private addresses) and a name that points inside
    # (once the batch exists: configuration-time checks would refuse it too)
    batch = create_batch(client, tenant, deps, webhook_url="https://hooks.example.test/in?token=s3cret")
    dns.answers["hooks.example.test"] = [address]
    e = execution(batch, 1)
    # When a call ends
    emit_call_event(deps, e, batch, "call.ended")
    pump.run()
    pump.advance(3600)
    pump.run()
    # Then nothing was sent, and the log says why, once (not retried), without the URL's query string
    (row,) = log(client, tenant[0], batch.batch_id)
    assert row["outcome"] == "refused"
    assert row["status_code"] is None
    assert f"resolves to {address}" in row["error"]
    assert "s3cret" not in str(row) and row["url_host"] == "hooks.example.test"
    assert deps.deliveries.state(batch.batch_id, call_event_id(e.execution_id, "call.ended"))["state"] == (  # type: ignore[index]
        "refused"
    )


def test_metadata_is_refused_even_where_private_addresses_are_allowed(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, dns: FakeDns, receiver: Receiver
) -> None:
    # Given the local stack's setting, and a name that was public when configured but now points at the metadata service
    dns.answers["rebind.example.test"] = ["93.184.216.34"]
    url = validate_webhook_url("http://rebind.example.test/hook", hooks.settings)
    batch = create_batch(client, tenant, hooks, webhook_url=url)
    dns.answers["rebind.example.test"] = ["169.254.169.254"]
    # When a call ends
    emit_call_event(hooks, execution(batch, 1), batch, "call.ended")
    pump.run()
    # Then the check made just before connecting refuses it
    (row,) = log(client, tenant[0], batch.batch_id)
    assert row["outcome"] == "refused" and "metadata" in row["error"]


def test_the_post_goes_to_the_address_that_was_checked_without_resolving_again(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, dns: FakeDns, receiver: Receiver
) -> None:
    # Given a name for the receiver (allowed: loopback, in the local stack's setting)
    port = receiver.server.server_address[1]
    dns.answers["receiver.example.test"] = ["127.0.0.1"]
    batch = create_batch(client, tenant, hooks, webhook_url=f"http://receiver.example.test:{port}/hook")
    dns.lookups.clear()
    # When a call ends
    emit_call_event(hooks, execution(batch, 1), batch, "call.ended")
    pump.run()
    # Then the name was resolved once, for the check, and the connection used that answer with the name as Host
    assert dns.lookups == {"receiver.example.test": 1}
    (request,) = receiver.received
    assert request.headers["host"] == f"receiver.example.test:{port}"
    assert log(client, tenant[0], batch.batch_id)[0]["outcome"] == "delivered"


def test_a_name_that_does_not_resolve_is_retried(
    client: Client, tenant: tuple[str, str], hooks: Dependencies, pump: Pump, dns: FakeDns
) -> None:
    batch = create_batch(client, tenant, hooks, webhook_url="https://nowhere.example.test/hook")
    emit_call_event(hooks, execution(batch, 1), batch, "call.ended")
    pump.run()
    (row,) = log(client, tenant[0], batch.batch_id)
    assert row["outcome"] == "retrying" and "cannot resolve nowhere.example.test" in row["error"]


@pytest.mark.parametrize(
    ("url", "allow_private", "reason"),
    [
        ("http://hooks.example.com/x", False, "must be an https:// URL"),
        ("ftp://hooks.example.com/x", True, "must be an http(s) URL"),
        ("https://user:pw@hooks.example.com/x", False, "must not carry credentials"),
        ("https:///x", False, "has no host"),
        ("https://127.0.0.1/x", False, "resolves to 127.0.0.1, a loopback address"),
        ("https://[::ffff:7f00:1]/x", False, "an IPv6 form of 127.0.0.1"),
        ("https://internal.example.test/x", False, "resolves to 10.0.0.7, a private address"),
        ("https://mixed.example.test/x", False, "resolves to 192.168.1.1"),
        ("http://169.254.169.254/latest/meta-data/", True, "a cloud metadata address"),
        ("http://[fd00:ec2::254]/", True, "a cloud metadata address"),
        ("http://100.64.0.1/", True, "a shared (carrier-grade NAT) address"),
    ],
)
def test_configuration_time_check_names_the_field(
    deps: Dependencies, dns: FakeDns, url: str, allow_private: bool, reason: str
) -> None:
    dns.answers["internal.example.test"] = ["10.0.0.7"]
    dns.answers["mixed.example.test"] = ["93.184.216.34", "192.168.1.1"]
    settings = deps.settings.model_copy(update={"webhook_allow_private": allow_private})
    with pytest.raises(BadRequest) as raised:
        validate_webhook_url(url, settings, "status_webhook")
    assert raised.value.message.startswith("status_webhook ")
    assert reason in raised.value.message
    assert raised.value.details == [
        {"field": "status_webhook", "message": raised.value.message[len("status_webhook ") :]}
    ]


def test_configuration_time_check_accepts_public_and_not_yet_resolvable_hosts(deps: Dependencies, dns: FakeDns) -> None:
    dns.answers["public.example.test"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    assert validate_webhook_url(" https://public.example.test/hook?k=1 ", deps.settings) == (
        "https://public.example.test/hook?k=1"
    )
    assert validate_webhook_url("https://not-yet.example.test/hook", deps.settings) == (
        "https://not-yet.example.test/hook"
    )  # DNS may come later: delivery checks again
    local = deps.settings.model_copy(update={"webhook_allow_private": True})
    assert validate_webhook_url("http://127.0.0.1:8080/hook", local) == "http://127.0.0.1:8080/hook"
