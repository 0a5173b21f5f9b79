"""What a provider's refusal, outage or rate limit does to a call: failed, retried, or slowed — never lost."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from chalicelib.domain.records import Execution
from chalicelib.services.container import Dependencies
from chalicelib.services.dialing import MAYBE_PLACED, pace_key
from tests.support.fake_twilio import FakeTwilio
from tests.support.providers import (
    crash_once_after_placement,
    crash_then_redeliver,
    executions,
    post_callback,
    settle,
    start_batch,
    use_provider,
)
from tests.support.pump import FakeContext, Pump


def test_a_4xx_fails_the_call_with_twilios_message(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    use_provider(client, tenant, "twilio")
    twilio.fail_next(400, 21211, "The 'To' number +12025550100 is not a valid phone number.")
    batch_id = start_batch(client, tenant, 1)
    [execution] = settle(deps, pump, batch_id)
    assert execution.status == "failed"
    assert str(execution.error_message).startswith("Twilio 21211:")
    assert "is not a valid phone number" in str(execution.error_message)
    assert twilio.requests == 1 and twilio.calls == []
    # And its live-call slot is free again, and the batch completes
    assert deps.leases.live(f"tenant-a#{execution.agent_id}") == 0
    assert deps.batches.find(batch_id).status == "completed"  # type: ignore[union-attr]


def test_5xx_answers_are_retried_with_backoff_and_the_call_is_placed_once(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    use_provider(client, tenant, "twilio")
    twilio.fail_next(503, 20503, "Service Unavailable", times=2)
    batch_id = start_batch(client, tenant, 1)
    [execution] = settle(deps, pump, batch_id)
    assert execution.status == "initiated" and str(execution.provider_call_id).startswith("CA")
    assert twilio.requests == 3 and len(twilio.calls) == 1
    assert pump.advanced_seconds >= 2 + 4  # waited out the backoff (2 s, then 4 s)


def test_each_provider_request_and_its_answer_are_on_the_calls_timeline(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    # Given Twilio answers 503 twice (quoting the number), then takes the call
    use_provider(client, tenant, "twilio")
    twilio.fail_next(503, 20503, "Service Unavailable for +12025550100", times=2)
    [execution] = settle(deps, pump, start_batch(client, tenant, 1))
    # Then the call's log shows three requests, each followed by its answer, with what happened next
    response = client.http.get(
        f"/executions/{execution.execution_id}/log", headers={"Authorization": f"Bearer {tenant[0]}"}
    )
    provider = [e for e in json.loads(response.body)["data"] if e["type"] in ("request", "response")]
    assert [e["type"] for e in provider] == ["request", "response"] * 3
    assert {e["provider"] for e in provider} == {"twilio"} and {e["component"] for e in provider} == {"dialer"}
    answers = [e["data"] for e in provider if e["type"] == "response"]
    assert "Service Unavailable for +******0100" in answers[0] and answers[0].endswith("again in 2 s")
    assert answers[1].endswith("again in 4 s")
    assert answers[2] == f"accepted: call id {execution.provider_call_id}"
    assert "+12025550100" not in response.body.decode()


def test_a_provider_that_keeps_failing_ends_the_call_in_error(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    use_provider(client, tenant, "twilio")
    twilio.fail_next(500, 20500, "Internal Server Error", times=10)
    [execution] = settle(deps, pump, start_batch(client, tenant, 1))
    assert execution.status == "error"
    assert "after 4 attempts" in str(execution.error_message)
    assert twilio.requests == deps.settings.provider_max_attempts == 4


def test_a_rate_limit_slows_the_account_and_does_not_fail_the_call(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    use_provider(client, tenant, "twilio", calls_per_second=50)
    twilio.fail_next(429, 20429, "Too Many Requests", times=3, Retry_After="7")
    batch_id = start_batch(client, tenant, 2)
    rows = settle(deps, pump, batch_id)
    assert [e.status for e in rows] == ["initiated", "initiated"]
    assert len(twilio.calls) == 2 and twilio.requests == 5
    # Then no call was placed within Retry-After (7 s) of the first rate-limit answer
    first_refusal = min(twilio.requested_at)
    assert all((t - first_refusal).total_seconds() >= 7 for t in twilio.accepted_at)


def test_calls_are_paced_to_the_accounts_calls_per_second(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    # Given a Twilio agent allowed 10 live calls but 1 call per second (Twilio's default)
    agent = deps.agents.get("tenant-a", tenant[1])
    use_provider(client, tenant, "twilio")
    batch_id = start_batch(client, tenant, 4)
    settle(deps, pump, batch_id)
    # Then the four calls were created at least a second apart
    times = sorted(twilio.accepted_at)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert len(times) == 4 and min(gaps) >= 0.99, gaps
    assert pace_key(agent.model_copy(update={"provider": "twilio"})) == "tenant-a#pace#twilio#twilio"


def test_duplicate_deliveries_of_a_retried_placement_dial_once(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    # Given a provider that fails twice, and a queue that delivers every dial message twice
    use_provider(client, tenant, "twilio")
    twilio.fail_next(503, 20503, "Service Unavailable", times=2)
    pump.duplicate = lambda name, body: name == "dialer"
    # When the batch runs
    [execution] = settle(deps, pump, start_batch(client, tenant, 1))
    # Then Twilio created exactly one call, after exactly two failed tries
    assert len(twilio.calls) == 1 and twilio.requests == 3
    assert str(execution.provider_call_id).startswith("CA")


def test_a_crash_after_a_retried_placement_does_not_dial_again(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a first try answered 503, and a dialer that dies right after the second try placed the call
    use_provider(client, tenant, "twilio")
    twilio.fail_next(503, 20503, "Service Unavailable")
    crashes = crash_once_after_placement(deps, monkeypatch)
    batch_id = start_batch(client, tenant, 1)
    # When SQS hands back the message the crashed dialer never acknowledged
    crash_then_redeliver(pump)
    assert crashes
    # Then Twilio was asked for one call only, and Twilio's callbacks still find the execution
    assert len(twilio.calls) == 1 and twilio.requests == 2
    [execution] = executions(deps, batch_id)
    assert execution.status == "initiated"


def test_a_dial_that_might_outlive_the_lambda_is_handed_back_untouched(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an invocation with less time left than one provider request may take
    use_provider(client, tenant, "twilio")
    monkeypatch.setattr(FakeContext, "get_remaining_time_in_millis", lambda self: 5_000)
    batch_id = start_batch(client, tenant, 1)
    for _ in range(5):
        pump.step("dispatcher")
        pump.step("dialer")
    # Then nothing was claimed or placed, and the message is back on the queue, not failed
    assert twilio.requests == 0
    assert [e.status for e in executions(deps, batch_id)] == ["queued"]
    # And with time enough, the call is placed
    monkeypatch.setattr(FakeContext, "get_remaining_time_in_millis", lambda self: 30_000)
    [execution] = settle(deps, pump, batch_id)
    assert str(execution.provider_call_id).startswith("CA") and twilio.requests == 1


def test_a_placement_retry_past_the_end_of_calling_hours_waits_for_the_next_window(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, twilio: FakeTwilio
) -> None:
    # Given calling hours 9-17 on weekdays, a call claimed at 16:59:58 in Washington, and Twilio down once
    use_provider(
        client, tenant, "twilio", call_start_hour=9, call_end_hour=17, call_days=["mon", "tue", "wed", "thu", "fri"]
    )
    twilio.fail_next(503, 20503, "Service Unavailable")
    monday_close = datetime(2026, 11, 30, 21, 59, 58, tzinfo=UTC)
    pump.advance((monday_close - datetime.now(UTC)).total_seconds())
    batch_id = start_batch(client, tenant, 1)
    # When the retry comes due after 17:00
    pump.run(until=lambda: [e.status for e in executions(deps, batch_id)] == ["rescheduled"], advance_seconds=1)
    # Then it is not placed: it waits for Tuesday 09:00, and its live-call slot is free meanwhile
    [execution] = executions(deps, batch_id)
    assert execution.scheduled_at == "2026-12-01T14:00:00.000Z"
    assert deps.leases.live(f"tenant-a#{execution.agent_id}") == 0
    assert twilio.requests == 1
    # And on Tuesday morning it is placed, once
    pump.advance((datetime(2026, 12, 1, 13, 59, tzinfo=UTC) - datetime.now(UTC)).total_seconds())
    pump.run()
    assert twilio.calls == []
    settle(deps, pump, batch_id)
    assert len(twilio.calls) == 1 and twilio.accepted_at[0] >= datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def test_a_twilio_request_that_times_out_after_twilio_took_the_call_is_never_placed_again(
    client: Client, deps: Dependencies, pump: Pump, twilio: FakeTwilio, timed_out_on_twilio: Execution
) -> None:
    # Given Twilio created the call but answered after our client gave up, and the dialer had every chance to retry
    execution = timed_out_on_twilio
    # Then Twilio was asked once: the claim stands (its slot held), not placed again
    assert twilio.requests == 1 and len(twilio.calls) == 1
    assert execution.status == "initiated" and execution.provider_call_id is None
    assert deps.leases.live(f"tenant-a#{execution.agent_id}") == 1
    # And Twilio's own report of that call ends it (our execution id is in its callback URL)
    url = f"https://calls.example.test/api/providers/twilio/events?execution_id={execution.execution_id}"
    headers, body = twilio.callback(url, "CA" + "0" * 32, "completed", CallDuration="12")
    assert post_callback(client, "twilio", execution.execution_id, headers, body) == 204
    pump.run()
    final = deps.executions.find(execution.execution_id)
    assert final is not None and final.status == "completed" and final.conversation_duration == 12
    assert twilio.requests == 1


def test_a_twilio_request_that_may_have_placed_the_call_says_so_on_the_calls_timeline(
    client: Client,
    tenant: tuple[str, str],
    deps: Dependencies,
    pump: Pump,
    twilio: FakeTwilio,
    timed_out_on_twilio: Execution,
) -> None:
    # Given a Twilio request that timed out after Twilio took it, and no report from Twilio ever
    execution = timed_out_on_twilio
    # Then its log says why it is not placed again
    response = client.http.get(
        f"/executions/{execution.execution_id}/log", headers={"Authorization": f"Bearer {tenant[0]}"}
    )
    answers = [e["data"] for e in json.loads(response.body)["data"] if e["type"] == "response"]
    assert answers == [f"unknown: Twilio did not answer: ReadTimeout; {MAYBE_PLACED}"]
    # And once the claim timeout has passed, the sweeper ends it in error, still with one request to Twilio
    from chalicelib.workers.sweeper import sweep

    pump.advance(deps.settings.claim_timeout_seconds + 1)
    sweep(deps)
    final = deps.executions.find(execution.execution_id)
    assert final is not None and final.status == "error" and twilio.requests == 1
