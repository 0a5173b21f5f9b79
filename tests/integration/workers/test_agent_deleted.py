"""A batch whose agent vanished mid-run (deleted before deletes were refused, or racing one) ends; it never hangs."""

from __future__ import annotations

import json

from chalice.test import Client

from chalicelib.domain.batch_status import TERMINAL
from chalicelib.services.container import Dependencies
from tests.support.batches import create_and_run
from tests.support.pump import Pump

OPEN = ("queued", "rescheduled", "initiated", "ringing", "in-progress")


def test_a_running_batch_whose_agent_was_deleted_is_stopped_with_the_reason(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given a 50-contact batch whose first dispatch step ran (20 executions queued, 30 contacts to go)
    _, agent_id = tenant
    batch_id, auth = create_and_run(client, tenant, 50)
    pump.step("dispatcher")
    assert 0 < deps.batches.find(batch_id).next_pos < 50  # type: ignore[union-attr]
    # When its agent is deleted behind the API's back
    deps.agents.delete("tenant-a", agent_id)
    # Then the queues settle (no step raises for ever) with the batch in a final state, saying why
    pump.run(max_steps=500)
    batch = json.loads(client.http.get(f"/batches/{batch_id}", headers=auth).body)
    assert batch["status"] in TERMINAL
    assert batch["failure_reason"]["code"] == "agent_deleted" and agent_id in batch["failure_reason"]["message"]
    # And every execution made for it reached a final status: nothing is left queued or live
    assert not any(batch["execution_status"].get(status) for status in OPEN)
    assert sum(batch["execution_status"].values()) >= 20
