"""A suppressed number is never dialled: not when suppressed after its batch was created, not when the
suppression races the dialer's claim, not on a retry; an opt-out in a call suppresses and ends retries.
Dials are counted at the (scripted) provider."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.messages import ProviderEvent
from chalicelib.domain.records import Execution
from chalicelib.domain.suppressions import SuppressionSource
from chalicelib.services import attempt_end
from chalicelib.services.container import Dependencies
from chalicelib.services.provider_events import apply_provider_event
from chalicelib.store.numbers import NumberStore
from tests.support.batches import create_and_run, is_completed, make_batch
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider

RETRY = {"enabled": True, "max_retries": 2, "retry_on_statuses": ["no-answer"], "retry_intervals_minutes": [5]}


def number(i: int) -> str:
    return f"+1202555{100 + i:04d}"


def suppress(client: Client, tenant: tuple[str, str], *numbers: str) -> None:
    response = client.http.post(
        "/suppressions",
        headers={"Authorization": f"Bearer {tenant[0]}", "Content-Type": "application/json"},
        body=json.dumps({"numbers": list(numbers)}),
    )
    assert response.status_code == 201, response.body


def dialled(scripted: ScriptedProvider) -> Counter[str]:
    return Counter(to for to, _, _ in scripted.dials)


def statuses(deps: Dependencies, batch_id: str) -> dict[str, str]:
    """Each contact's last attempt's status, by number."""
    last: dict[str, Execution] = {}
    for e in deps.executions.iter_batch(batch_id):
        if e.user_number not in last or e.attempt > last[e.user_number].attempt:
            last[e.user_number] = e
    return {n: e.status for n, e in last.items()}


def retry_waits(deps: Dependencies, batch_id: str) -> bool:
    """Contact 0's first attempt ended and its retry (attempt 2) waits for its time."""
    return any(e.attempt == 2 and e.status == "queued" for e in deps.executions.iter_batch(batch_id))


def test_a_number_suppressed_after_upload_but_before_its_call_is_never_dialled(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    announced: list[tuple[str, str]] = []
    monkeypatch.setattr(attempt_end, "emit_call_event", lambda _deps, e, _b, event: announced.append((e.status, event)))
    # Given a batch of 5 created while nobody was suppressed
    batch_id, auth = make_batch(client, tenant, 5, webhook_url="https://hooks.example.test/calls")
    # When one of its numbers is suppressed before the batch runs
    suppress(client, tenant, number(2))
    client.http.post(f"/batches/{batch_id}/run", headers=auth)
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    # Then it was never dialled; its execution ends `suppressed`, counted, announced; the batch completes
    assert number(2) not in dialled(scripted) and len(scripted.dials) == 4
    assert statuses(deps, batch_id)[number(2)] == "suppressed"
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert batch["status"] == "completed"
    assert batch["execution_status"] == {"completed": 4, "suppressed": 1}
    assert ("suppressed", "call.ended") in announced


def test_suppressed_contacts_are_skipped_at_creation_and_reported(
    client: Client, tenant: tuple[str, str], deps: Dependencies
) -> None:
    # Given two suppressed numbers, one of them expired
    suppress(client, tenant, number(1))
    deps.numbers.suppress("tenant-a", number(3), SuppressionSource.API)
    # When a batch of 5 is created
    batch_id, auth = make_batch(client, tenant, 5)
    # Then the suppressed one is skipped: counted apart from the valid ones, with a row reason
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert (batch["total_contacts"], batch["valid_contacts"], batch["suppressed_contacts"]) == (5, 3, 2)
    errors = json.loads(client.http.get(f"/batches/{batch_id}/errors", headers=auth).body)
    assert [(e["row"], e["reason"], e["value"]) for e in errors] == [
        (3, "suppressed", number(1)),
        (5, "suppressed", number(3)),
    ]


def test_the_create_answer_counts_suppressed_contacts(client: Client, tenant: tuple[str, str]) -> None:
    from tests.support.api import post_csv
    from tests.support.batches import contacts_csv

    suppress(client, tenant, number(0))
    response = post_csv(client, tenant[0], {"agent_id": tenant[1]}, contacts_csv(3))
    body = json.loads(response.body)
    assert (body["valid_contacts"], body["suppressed_contacts"]) == (2, 1)


def test_a_suppression_racing_the_claims_never_lets_a_dial_through(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given 30 contacts queued for the dialer, an agent with room for all of them
    rng = random.Random(15)
    n = 30
    batch_id, _ = create_and_run(client, tenant, n)
    while pump.step("dispatcher"):
        pass
    # And a record of when each suppression returned, and when each claim's number element was built
    # (just before its transaction is sent)
    order = iter(range(10**9))
    lock = threading.Lock()
    suppressed_at: dict[str, int] = {}
    claimed_at: dict[str, int] = {}
    build = NumberStore.claim_element

    def recorded_claim(self: NumberStore, tenant_id: str, to: str, *args: Any) -> dict[str, Any]:
        with lock:
            claimed_at[to] = next(order)
        return build(self, tenant_id, to, *args)

    deps.numbers.claim_element = recorded_claim.__get__(deps.numbers)  # type: ignore[method-assign]
    targets = [number(i) for i in rng.sample(range(n), 15)]

    def suppressor() -> None:
        for to in targets:
            deps.numbers.suppress("tenant-a", to, SuppressionSource.API)
            with lock:
                suppressed_at[to] = next(order)
            time.sleep(rng.random() * 0.01)  # spread the suppressions over the dialers' work

    # When dialers and the suppressions run at once
    threads = [threading.Thread(target=suppressor)]
    threads += [threading.Thread(target=lambda: [pump.step("dialer") for _ in range(4)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    # Then no number was dialled by a claim that began after its suppression had returned
    calls_made = dialled(scripted)
    late = [to for to in targets if calls_made[to] and claimed_at[to] > suppressed_at[to]]
    assert late == []
    # And each contact was either dialled once or ended `suppressed` without a dial, never both
    final = statuses(deps, batch_id)
    for i in range(n):
        to = number(i)
        assert (calls_made[to], final[to]) in ((1, "completed"), (0, "suppressed")), (to, calls_made[to], final[to])
    assert all(final[to] == "completed" for to in map(number, range(n)) if to not in targets)
    assert sum(1 for to in targets if final[to] == "suppressed") >= 1  # the race was really run


def test_the_retry_of_a_number_suppressed_meanwhile_is_never_dialled(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given contact 0 does not answer and has a retry due in 5 minutes
    scripted.script = {(0, 1): "no-answer"}
    batch_id, _ = create_and_run(client, tenant, 2, retry_config=json.dumps(RETRY))
    pump.run(until=lambda: len(scripted.dials) == 2 and retry_waits(deps, batch_id))
    # When the number is suppressed before the retry is due
    suppress(client, tenant, number(0))
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=60)
    # Then the retry ends `suppressed` without a dial, and is not retried again
    assert dialled(scripted)[number(0)] == 1
    attempts = sorted((e.attempt, e.status) for e in deps.executions.iter_batch(batch_id) if e.user_number == number(0))
    assert attempts == [(1, "no-answer"), (2, "suppressed")]


def test_an_opt_out_suppresses_the_number_and_ends_its_pending_retry(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given contact 0's first call ended no-answer and its retry waits
    scripted.script = {(0, 1): "no-answer"}
    batch_id, _ = create_and_run(client, tenant, 1, retry_config=json.dumps(RETRY))
    pump.run(until=lambda: retry_waits(deps, batch_id))
    first = next(e for e in deps.executions.iter_batch(batch_id) if e.attempt == 1)
    # When a (late) event of that call says the person opted out
    apply_provider_event(deps, ProviderEvent.of(first.execution_id, "simulator", None, "no-answer", opt_out=True))
    # Then the number is suppressed, from the call, and the retry ended without a dial; the batch completes
    entry = deps.numbers.get("tenant-a", number(0))
    assert entry is not None and entry.source == "call_opt_out" and entry.execution_id == first.execution_id
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=60)
    assert dialled(scripted)[number(0)] == 1
    assert statuses(deps, batch_id)[number(0)] == "suppressed"


def test_a_final_event_with_an_opt_out_is_never_retried(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    # Given a call that will end no-answer (retried by the batch's config) with the person's opt-out
    scripted.report = False
    batch_id, _ = create_and_run(client, tenant, 1, retry_config=json.dumps(RETRY))
    pump.run(until=lambda: len(scripted.dials) == 1)
    execution = next(iter(deps.executions.iter_batch(batch_id)))
    apply_provider_event(deps, ProviderEvent.of(execution.execution_id, "simulator", None, "no-answer", opt_out=True))
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=60)
    # Then no retry was made, and the number is suppressed
    assert [e.status for e in deps.executions.iter_batch(batch_id)] == ["no-answer"]
    assert deps.numbers.get("tenant-a", number(0)) is not None


def test_another_tenants_suppression_does_not_touch_this_tenants_calls(
    client: Client,
    tenant: tuple[str, str],
    other_tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
) -> None:
    # Given the other tenant suppressed a number this tenant's batch calls
    suppress(client, other_tenant, number(0))
    batch_id, auth = make_batch(client, tenant, 2)
    assert json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)["suppressed_contacts"] == 0
    client.http.post(f"/batches/{batch_id}/run", headers=auth)
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    # Then this tenant's call is placed, and its list stays empty
    assert dialled(scripted)[number(0)] == 1
    assert client.http.get("/suppressions/%2B12025550100", headers=auth).status_code == 404


def test_a_batch_whose_every_contact_is_suppressed_still_runs_to_completion(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, scripted: ScriptedProvider
) -> None:
    suppress(client, tenant, number(0), number(1))
    batch_id, auth = make_batch(client, tenant, 2)
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert (batch["valid_contacts"], batch["suppressed_contacts"]) == (0, 2)
    assert client.http.post(f"/batches/{batch_id}/run", headers=auth).status_code == 200
    pump.run(until=lambda: is_completed(deps, batch_id), advance_seconds=2)
    assert scripted.dials == []
