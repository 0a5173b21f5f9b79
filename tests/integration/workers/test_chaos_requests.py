"""The chaos harness's cheaper AWS calls (tests/support/world.py `cheap_requests`): moto answers them alike."""

from __future__ import annotations

from typing import Any

from chalicelib import aws
from chalicelib.resources import BATCHES, WEBHOOK_QUEUE, queue_name, table_name
from chalicelib.services.container import Dependencies
from tests.support.world import cheap_requests


def _calls(deps: Dependencies) -> list[Any]:
    """A DynamoDB read and an SQS lookup, as the service makes them: their answers without request metadata."""
    table = aws.dynamodb().describe_table(TableName=table_name(deps.settings, BATCHES))["Table"]
    url = aws.sqs().get_queue_url(QueueName=queue_name(deps.settings, WEBHOOK_QUEUE))["QueueUrl"]
    return [table["TableArn"], table["KeySchema"], url]


def test_requests_are_unsigned_only_while_a_seed_runs_and_answered_alike(deps: Dependencies) -> None:
    # Given the service's DynamoDB and SQS clients, each request's Authorization header recorded
    sent: list[str | None] = []
    for client in (aws.dynamodb(), aws.sqs()):
        client.meta.events.register(
            "before-send", lambda request, **_: sent.append(request.headers.get("Authorization"))
        )
    signed = _calls(deps)
    # When the same calls are made while a seed runs, and again after
    with cheap_requests():
        unsigned = _calls(deps)
    again = _calls(deps)
    # Then moto answers alike (same account, region, resources); only the seed's requests went unsigned
    assert signed == unsigned == again
    assert [header is not None for header in sent] == [True, True, False, False, True, True]
