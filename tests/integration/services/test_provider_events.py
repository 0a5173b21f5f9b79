"""What a call costs in AWS requests: a live call's progress is one write, its end one transaction that frees
the slot, and an answered call stays within its request budget (issue 17)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.domain.messages import ProviderEvent
from chalicelib.domain.records import Execution
from chalicelib.services.container import Dependencies
from chalicelib.store.execution_item import stored_name
from chalicelib.store.leases import agent_key
from chalicelib.workers.provider_events import handle_event
from tests.support.api import post_csv
from tests.support.batches import contacts_csv, patch_agent
from tests.support.pump import Pump

# Lambda's event source mapping and the local Scheduler's polling (the pump's), and per-container look-ups.
POLLER_OPS = {"ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "ListSchedules"}
NOT_PER_CALL = {"GetQueueUrl"}
T = TypeVar("T")
MAX_REQUESTS_PER_ANSWERED_CALL = 8
CALLS = 40  # enough that the batch's own requests (dispatch, start, completion) weigh little per call


class Requests:
    """AWS requests by operation, as a botocore hook on every client of the service sees them."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.paused = False

    def __call__(self, event_name: str, **_: Any) -> None:
        if not self.paused:
            self.seen[event_name.rsplit(".", 1)[-1]] += 1

    def uncounted(self, read: Callable[[], T]) -> T:
        """The test's own reads (its wait for the batch to complete) go through the same clients: not the service's."""
        self.paused = True
        try:
            return read()
        finally:
            self.paused = False

    def service_made(self) -> int:
        return sum(n for op, n in self.seen.items() if op not in POLLER_OPS | NOT_PER_CALL)


@pytest.fixture
def requests() -> Iterator[Requests]:
    counting = Requests()
    clients = [make() for make in (aws.dynamodb, aws.s3, aws.sqs, aws.scheduler)]
    for c in clients:
        c.meta.events.register("before-call", counting)
    yield counting
    for c in clients:
        c.meta.events.unregister("before-call", counting)


def placed_call(client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies) -> Execution:
    """One call claimed and placed, its provider's events not yet handled."""
    key, agent_id = tenant
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(1)).body)["batch_id"]
    client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"})
    while pump.step("dispatcher"):
        pass
    while pump.step("dialer"):
        pass
    [execution] = list(deps.executions.iter_batch(batch_id))
    assert execution.status == "initiated"
    return execution


def event(execution: Execution, status: str, **details: Any) -> ProviderEvent:
    return ProviderEvent(execution_id=execution.execution_id, provider="simulator", status=status, details=details)


def test_a_ringing_and_an_answer_each_write_the_execution_once_and_leave_the_batch_alone(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, requests: Requests
) -> None:
    # Given a placed call
    execution = placed_call(client, tenant, pump, deps)
    requests.seen.clear()
    # When the provider reports it ringing, then answered
    handle_event(deps, event(execution, "ringing"))
    handle_event(deps, event(execution, "in-progress"))
    # Then each was one conditional write on the execution: no read first, no transaction on the batch
    assert requests.seen == Counter({"UpdateItem": 2})
    after = deps.executions.find(execution.execution_id)
    assert after is not None and after.status == "in-progress" and after.answered_at and after.ringing_at
    # and the batch still counts the live call as claimed
    batch = deps.batches.find(execution.batch_id)
    assert batch is not None and batch.live == 1
    assert {k: v for k, v in batch.execution_status.items() if v} == {"initiated": 1}


def test_a_late_ringing_after_the_answer_changes_nothing(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given an answered call (its ringing never came)
    execution = placed_call(client, tenant, pump, deps)
    handle_event(deps, event(execution, "in-progress"))
    # When the ringing arrives late, twice
    handle_event(deps, event(execution, "ringing"))
    handle_event(deps, event(execution, "ringing"))
    # Then the call is still answered
    after = deps.executions.find(execution.execution_id)
    assert after is not None and after.status == "in-progress" and after.ringing_at is None


def test_the_outcome_frees_the_slot_in_its_own_transaction(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, requests: Requests
) -> None:
    # Given an answered call
    execution = placed_call(client, tenant, pump, deps)
    handle_event(deps, event(execution, "in-progress"))
    requests.seen.clear()
    # When it ends
    handle_event(deps, event(execution, "completed", conversation_duration=30, total_cost=0.02))
    # Then one transaction ended it and freed its slot (agent, batch, lease)
    assert requests.seen["TransactWriteItems"] == 1
    key = agent_key(execution.tenant_id, execution.agent_id)
    assert deps.leases.live(key) == 0
    assert not deps.leases.release(key, execution.execution_id, execution.batch_id)  # the lease is gone
    batch = deps.batches.find(execution.batch_id)
    assert batch is not None and batch.live == 0 and batch.status == "completed"
    assert {k: v for k, v in batch.execution_status.items() if v} == {"completed": 1}


def test_an_outcome_after_the_slot_was_freed_ends_the_call_and_frees_nothing_twice(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given a ringing call whose slot the sweeper freed already (its lease expired)
    execution = placed_call(client, tenant, pump, deps)
    handle_event(deps, event(execution, "ringing"))
    key = agent_key(execution.tenant_id, execution.agent_id)
    assert deps.leases.release(key, execution.execution_id, execution.batch_id)
    # When its outcome arrives, twice
    handle_event(deps, event(execution, "no-answer"))
    handle_event(deps, event(execution, "no-answer"))
    # Then it ended once, and no counter went below zero
    after = deps.executions.find(execution.execution_id)
    assert after is not None and after.status == "no-answer"
    assert deps.leases.live(key) == 0
    batch = deps.batches.find(execution.batch_id)
    assert batch is not None and batch.live == 0 and batch.finished == 1 and batch.status == "completed"


def test_an_answered_call_costs_at_most_eight_aws_requests(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies, requests: Requests
) -> None:
    # Given a batch of 40 contacts that all answer (zero-length simulated calls), with a slot for each
    patch_agent(client, tenant, provider_config={"fixed_talk_seconds": 30}, max_concurrent_calls=50)
    key, agent_id = tenant
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(CALLS)).body)["batch_id"]
    requests.seen.clear()
    # When it runs to the end
    client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"})
    done = lambda: getattr(deps.batches.find(batch_id), "status", None) == "completed"  # noqa: E731
    pump.run(until=lambda: requests.uncounted(done), advance_seconds=2)
    # Then the service made at most eight AWS requests per call (the pollers' receives and deletes aside)
    assert requests.service_made() / CALLS <= MAX_REQUESTS_PER_ANSWERED_CALL, requests.seen
    batch = deps.batches.find(batch_id)
    assert batch is not None and batch.execution_status.get("completed") == CALLS


def test_a_call_counted_as_ringing_before_the_upgrade_ends_with_exact_counters(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given a call that rang before this release: stored `ringing`, counted by the batch under `ringing`
    execution = placed_call(client, tenant, pump, deps)
    aws.dynamodb().transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": deps.executions.table,
                    "Key": deps.executions.key(execution.execution_id),
                    "UpdateExpression": "SET #st = :r",
                    "ExpressionAttributeNames": {"#st": stored_name("status")},
                    "ExpressionAttributeValues": {":r": {"S": "ringing"}},
                }
            },
            deps.batches.counter_update(execution.batch_id, {"initiated": -1, "ringing": +1}),  # type: ignore[list-item]
        ]
    )
    # When it is answered and ends
    handle_event(deps, event(execution, "in-progress"))
    handle_event(deps, event(execution, "completed", conversation_duration=12))
    # Then the batch counts it once, as completed, and nothing else
    batch = deps.batches.find(execution.batch_id)
    assert batch is not None and batch.status == "completed"
    assert {k: v for k, v in batch.execution_status.items() if v} == {"completed": 1}
