"""Sparse indexes every call writes (by_open, by_expiry) spread over several partition key values, and their
readers find items in every shard, including those written before the keys were sharded (issue 17)."""

from __future__ import annotations

import json

from chalice.test import Client

from chalicelib import aws, clock
from chalicelib.services.container import Dependencies
from chalicelib.store.dynamo import INDEX_SHARDS, av, index_shard
from chalicelib.store.leases import LEASE, agent_key
from tests.support.api import post_csv
from tests.support.batches import contacts_csv, patch_agent
from tests.support.pump import Pump


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
    # Then the index keys are spread over several shards, not one
    assert len({index_shard(e.execution_id) for e in executions}) == INDEX_SHARDS
    # and the sweeper's readers find every open call and every lease
    later = clock.iso(clock.now().replace(year=clock.now().year + 1))
    assert {e.execution_id for e in deps.executions.open_before(later)} == {e.execution_id for e in executions}
    # (the leases are on the open calls themselves since the fold; no lease item is written any more)
    assert all((e.model_extra or {}).get(LEASE) for e in deps.executions.open_before(later))
    assert not list(deps.leases.expired(later))
    assert deps.leases.count_live() == 40 == deps.leases.live(agent_key(legacy.tenant_id, legacy.agent_id))
