"""The batches table's indexes: what each holds as batches start and end."""

from __future__ import annotations

from typing import Any

from chalice.test import Client

from chalicelib.resources import BATCHES, table_name
from chalicelib.services.container import Dependencies
from chalicelib.services.sweeping import sweep_once
from tests.support.batches import create_and_run, is_completed
from tests.support.items import index_entries
from tests.support.pump import Pump


def active_entries(deps: Dependencies, index: str) -> list[dict[str, Any]]:
    """The entries of one of the active batches' indexes."""
    return index_entries(table_name(deps.settings, BATCHES), index, "active", "1")


def batch_ids(entries: list[dict[str, Any]]) -> set[str]:
    return {entry["batch_id"]["S"] for entry in entries}


def test_the_staged_keys_only_status_index_holds_the_active_batches_keys_as_by_status_does(
    client: Client, deps: Dependencies, pump: Pump, tenant: tuple[str, str]
) -> None:
    # Given a batch that runs to its end and one paused once dispatched
    finished, _ = create_and_run(client, tenant, 2)
    waiting, auth = create_and_run(client, tenant, 1)
    while pump.step("dispatcher"):
        pass
    assert client.http.post(f"/batches/{waiting}/pause", headers=auth).status_code == 200
    # Then while both are active, the index the next release's sweeper reads (by_status_keys) finds the same
    # batches as by_status, and holds their keys only
    assert batch_ids(active_entries(deps, "by_status_keys")) == batch_ids(active_entries(deps, "by_status"))
    assert batch_ids(active_entries(deps, "by_status_keys")) >= {finished, waiting}
    assert all(set(entry) == {"active", "batch_id"} for entry in active_entries(deps, "by_status_keys"))
    # When one completes (and the sweeper has folded its counters), Then it leaves both
    pump.run(until=lambda: is_completed(deps, finished), advance_seconds=2)
    pump.run()
    sweep_once(deps)
    assert batch_ids(active_entries(deps, "by_status_keys")) == batch_ids(active_entries(deps, "by_status"))
    assert batch_ids(active_entries(deps, "by_status_keys")) == {waiting}
