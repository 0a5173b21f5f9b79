"""Whatever reaches the callback route (any provider name, query, headers, body) answers 4xx, never 5xx."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.services.container import Dependencies
from tests.support.fake_twilio import FakeTwilio
from tests.support.providers import placed, start_batch, use_provider
from tests.support.pump import Pump

HEADER_NAMES = st.sampled_from(
    ["X-Twilio-Signature", "webhook-id", "webhook-timestamp", "webhook-signature", "Content-Type", "Host"]
)


def test_fuzzed_callbacks_are_refused_with_4xx_and_change_nothing(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    use_provider(client, tenant, "twilio")
    execution = placed(deps, pump, start_batch(client, tenant, 1))
    eid = execution.execution_id

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        provider=st.sampled_from(["twilio", "http", "simulator", "x"]),
        query=st.one_of(st.just(f"execution_id={eid}"), st.text(max_size=40).map(lambda t: quote(t, safe="=&"))),
        headers=st.dictionaries(HEADER_NAMES, st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)),
        body=st.one_of(
            st.binary(max_size=300),
            st.dictionaries(
                st.sampled_from(["CallStatus", "AccountSid", "CallSid", "status"]), st.text(max_size=20)
            ).map(lambda d: "&".join(f"{quote(k)}={quote(v)}" for k, v in d.items()).encode()),
        ),
    )
    def post(provider: str, query: str, headers: dict[str, Any], body: bytes) -> None:
        response = client.http.post(f"/providers/{provider}/events?{query}", headers=headers, body=body)
        assert 400 <= response.status_code < 500, (response.status_code, response.body)

    post()
    pump.run()
    assert deps.executions.find(eid).status == "initiated"  # type: ignore[union-attr]


def test_a_callback_with_an_empty_execution_id_is_refused_with_403(client: Client) -> None:
    # Given a callback URL whose execution_id is present but empty (DynamoDB refuses an empty key)
    for provider in ("http", "twilio"):
        # When it is posted, Then it is refused like any other callback for no call of ours, not a 500
        response = client.http.post(f"/providers/{provider}/events?execution_id=", body=b"{}")
        assert response.status_code == 403, (provider, response.body)
