"""Sparse indexes every call writes (by_open, by_expiry) spread over several partition key values, and their
readers find items in every shard, including those written before the keys were sharded (issue 17)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

from chalicelib import aws, clock
from chalicelib.services import sweeping
from chalicelib.services.container import Dependencies
from chalicelib.store.dynamo import INDEX_SHARDS, av, index_shard
from chalicelib.store.leases import LEASE, agent_key
from tests.support.api import post_csv
from tests.support.batches import contacts_csv, create_and_run, patch_agent
from tests.support.pump import Pump
from tests.support.scripted import ScriptedProvider


def test_open_calls_and_their_leases_spread_over_every_shard_and_are_all_found(
    client: Client, tenant: tuple[str, str], pump: Pump, deps: Dependencies
) -> None:
    # Given 40 calls claimed and placed, their provider's events not yet handled
    patch_agent(client, tenant, max_concurrent_calls=50)
    key, agent_id = tenant
    batch_id = json.loads(post_csv(client, key, {"agent_id": agent_id}, contacts_csv(40)).body)["batch_id"]
    client.http.post(f"/batches/{batch_id}/run", headers={"Authorization": f"Bearer {key}"})
    while pump.step("dispatcher"):
        pass
    while pump.step("dialer"):
        pass
    executions = list(deps.executions.iter_batch(batch_id))
    assert {e.status for e in executions} == {"initiated"}
    # and one open call as stored before the keys were sharded (shard "1" is the old key)
    legacy = executions[0]
    aws.dynamodb().update_item(
        TableName=deps.executions.table,
        Key=deps.executions.key(legacy.execution_id),
        UpdateExpression="SET open_shard = :one",
        ExpressionAttributeValues={":one": av("1")},
    )
    # Then the index keys are spread over several shards, not one (all 8 only most of the time: 40 random ids
    # leave one of 8 shards empty about 4% of runs, which once failed this test)
    assert len({index_shard(e.execution_id) for e in executions}) >= INDEX_SHARDS // 2
    # and the sweeper's readers find every open call and every lease
    later = clock.iso(clock.now().replace(year=clock.now().year + 1))
    assert {e.execution_id for e in deps.executions.open_before(later)} == {e.execution_id for e in executions}
    # (the leases are on the open calls themselves since the fold; no lease item is written any more)
    assert all((e.model_extra or {}).get(LEASE) for e in deps.executions.open_before(later))
    assert not list(deps.leases.expired(later))
    assert deps.leases.count_live() == 40 == deps.leases.live(agent_key(legacy.tenant_id, legacy.agent_id))


def test_a_shard_whose_query_fails_leaves_the_other_shards_open_calls_swept(
    client: Client,
    tenant: tuple[str, str],
    pump: Pump,
    deps: Dependencies,
    scripted: ScriptedProvider,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failed query of one shard of by_open once ended the listing: the shards after it waited a sweep."""
    # Given 24 placed calls, spread over every shard, whose provider never reports, past the report timeout
    patch_agent(client, tenant, max_concurrent_calls=30)
    scripted.report = False
    batch_id, _ = create_and_run(client, tenant, 24)
    while pump.step("dispatcher"):
        pass
    while pump.step("dialer"):
        pass
    pump.advance(deps.settings.call_report_timeout_seconds + 60)
    by_shard = {e.execution_id: index_shard(e.execution_id) for e in deps.executions.iter_batch(batch_id)}
    assert len(set(by_shard.values())) > 1
    # and DynamoDB refusing the query of the first shard that holds some of them (throttled)
    failing = min(by_shard.values())

    def throttle(params: dict[str, Any], **_: Any) -> None:
        if params.get("IndexName") == "by_open" and params["ExpressionAttributeValues"].get(":shard") == {"S": failing}:
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            raise ClientError(error, "Query")  # type: ignore[arg-type]

    aws.dynamodb().meta.events.register("provide-client-params.dynamodb.Query", throttle)
    counted: list[str] = []
    monkeypatch.setattr(sweeping, "count", lambda name, value=1, *_: counted.append(name))
    try:
        # When the sweeper runs
        report = sweeping.sweep_once(deps)
    finally:
        aws.dynamodb().meta.events.unregister("provide-client-params.dynamodb.Query", throttle)
    # Then every other shard's overdue call ended `error`, and the failed shard is counted and logged
    status = {e.execution_id: e.status for e in deps.executions.iter_batch(batch_id)}
    assert {i for i, s in status.items() if s == "error"} == {i for i, s in by_shard.items() if s != failing}
    assert report.unreported == sum(s != failing for s in by_shard.values()) and report.failures == 1
    assert counted.count("SweepFailures") == 1
    [failed] = [r for r in caplog.records if r.getMessage().startswith("sweep step failed")]
    assert getattr(failed, "step", None) == "open_executions" and "by_open" in str(failed.exc_info)
    # And the next sweep, the index readable again, ends the failed shard's calls too
    assert sweeping.sweep_once(deps).unreported == sum(s == failing for s in by_shard.values())
    assert {e.status for e in deps.executions.iter_batch(batch_id)} == {"error"}
