"""Agents, keyed by tenant so one tenant can never read another's."""

from __future__ import annotations

from botocore.exceptions import ClientError

from .. import aws
from ..domain.records import Agent
from ..errors import NotFound
from ..resources import AGENTS, table_name
from ..settings import Settings
from .dynamo import Fields, av, condition_failed, from_item, query_all, set_clause, storable_key, to_item


class AgentStore:
    def __init__(self, settings: Settings) -> None:
        self._table = table_name(settings, AGENTS)

    def create(self, agent: Agent) -> None:
        aws.dynamodb().put_item(
            TableName=self._table, Item=to_item(agent.to_item()), ConditionExpression="attribute_not_exists(agent_id)"
        )

    def get(self, tenant_id: str, agent_id: str) -> Agent:
        item = (
            aws.dynamodb()
            .get_item(TableName=self._table, Key={"tenant_id": av(tenant_id), "agent_id": av(agent_id)})
            .get("Item")
            if storable_key(agent_id)
            else None
        )
        if not item:
            raise NotFound(f"agent {agent_id} not found", code="agent_not_found")
        return Agent.model_validate(from_item(item))

    def find_by_id(self, agent_id: str) -> Agent | None:
        """The agent whatever its tenant: only for the drop folder, whose path names the agent."""
        items = (
            aws.dynamodb()
            .query(
                TableName=self._table,
                IndexName="by_id",
                KeyConditionExpression="agent_id = :a",
                ExpressionAttributeValues={":a": av(agent_id)},
            )
            .get("Items", [])
        )
        return Agent.model_validate(from_item(items[0])) if items else None

    def list(self, tenant_id: str) -> list[Agent]:
        items = query_all(
            TableName=self._table,
            KeyConditionExpression="tenant_id = :t",
            ExpressionAttributeValues={":t": av(tenant_id)},
        )
        return [Agent.model_validate(item) for item in items]

    def update(self, tenant_id: str, agent_id: str, changes: Fields) -> Agent:
        update, names, vals = set_clause(changes)
        try:
            result = aws.dynamodb().update_item(
                TableName=self._table,
                Key={"tenant_id": av(tenant_id), "agent_id": av(agent_id)},
                UpdateExpression=update,
                ConditionExpression="attribute_exists(agent_id)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=vals,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise NotFound(f"agent {agent_id} not found", code="agent_not_found") from None
            raise
        return Agent.model_validate(from_item(result["Attributes"]))

    def delete(self, tenant_id: str, agent_id: str) -> None:
        try:
            aws.dynamodb().delete_item(
                TableName=self._table,
                Key={"tenant_id": av(tenant_id), "agent_id": av(agent_id)},
                ConditionExpression="attribute_exists(agent_id)",
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise NotFound(f"agent {agent_id} not found", code="agent_not_found") from None
            raise
