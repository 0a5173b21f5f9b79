"""Seeded fault injection (local/faults.py): off unless armed, a seed replays, faults look like AWS's own errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib import aws
from chalicelib.errors import Throttled
from chalicelib.store.dynamo import cancellation_codes
from local.faults import FaultConfig, FaultInjector, InjectedCrash
from local.stack import LocalStack


@pytest.fixture
def dynamodb() -> Iterator[None]:
    with mock_aws():
        aws.reset()
        aws.dynamodb().create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield
        aws.install_client_hook(None)


def _only(kind: str, seed: int = 7) -> FaultInjector:
    injector = FaultInjector(FaultConfig(seed=seed, rate=1.0, kinds=frozenset({kind})))
    injector.install()
    return injector


def test_config_reads_the_make_run_form_and_refuses_unknown_kinds() -> None:
    config = FaultConfig.parse("seed=7,rate=0.05,kinds=throttle+duplicate")
    assert (config.seed, config.rate, config.kinds) == (7, 0.05, frozenset({"throttle", "duplicate"}))
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultConfig.parse("seed=1,kinds=meteor")


def test_nothing_is_injected_unless_armed(dynamodb: None) -> None:
    injector = _only("throttle")
    aws.dynamodb().get_item(TableName="t", Key={"k": {"S": "a"}})  # the harness's own call
    assert not injector.trail


def test_throttling_is_dynamodbs_own_error_and_logged_with_seed_and_point(dynamodb: None) -> None:
    injector = _only("throttle")
    with injector.armed(), pytest.raises(aws.dynamodb().exceptions.ProvisionedThroughputExceededException) as caught:
        aws.dynamodb().get_item(TableName="t", Key={"k": {"S": "a"}})
    assert isinstance(caught.value, Throttled)  # the API answers it 503 try_again (chalicelib/aws.py)
    assert injector.trail == ["fault seed=7 #1 point=dynamodb.GetItem:before kind=throttle"]


def test_a_transaction_conflict_names_each_item(dynamodb: None) -> None:
    injector = _only("conflict")
    puts: list[Any] = [{"Put": {"TableName": "t", "Item": {"k": {"S": key}}}} for key in ("a", "b")]
    with injector.armed(), pytest.raises(ClientError) as caught:
        aws.dynamodb().transact_write_items(TransactItems=puts)
    assert cancellation_codes(caught.value) == ["TransactionConflict", "TransactionConflict"]


def test_a_crash_after_the_call_leaves_its_write_done(dynamodb: None) -> None:
    injector = _only("crash_after")
    with injector.armed(), pytest.raises(InjectedCrash):
        aws.dynamodb().put_item(TableName="t", Item={"k": {"S": "a"}})
    assert "Item" in aws.dynamodb().get_item(TableName="t", Key={"k": {"S": "a"}})


def test_the_same_seed_replays_the_same_faults() -> None:
    def trail(seed: int) -> list[str]:
        injector = FaultInjector(FaultConfig(seed=seed, rate=0.3))
        for i in range(50):
            injector.roll(f"point{i}", ("throttle", "5xx", "crash_before"))
        return injector.trail

    assert trail(11) == trail(11) and trail(11) != trail(12)


def test_arming_is_per_thread() -> None:
    # Given faults armed on one thread (a consumer's invocation in the local stack)
    injector = FaultInjector(FaultConfig(seed=1, rate=1.0))
    seen: list[bool] = []
    with injector.armed():
        other = threading.Thread(target=lambda: seen.append(injector.is_armed))
        other.start()
        other.join()
        # Then another thread (the API, a runner's own calls) is not armed
        assert injector.is_armed and seen == [False]


def test_make_run_faults_reach_the_local_stack() -> None:
    stack = LocalStack(faults="seed=7,rate=0.05", data_dir=None)
    assert stack.faults is not None and (stack.faults.config.seed, stack.faults.config.rate) == (7, 0.05)
    assert LocalStack(data_dir=None).faults is None  # off by default
