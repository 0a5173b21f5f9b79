"""Agent routes (an addition to Bolna's batch API)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..domain.agents import AgentCreate, AgentPatch
from ..services import agents as agent_service
from ..services.audit import Change
from .http import ApiRequest, endpoint, json_response, success

bp = Blueprint(__name__)


@endpoint(bp, "/agents", ["POST"], Change("agent.created", "agent", field="id"))
def create_agent(req: ApiRequest) -> Any:
    spec = AgentCreate.model_validate(req.json_object())
    agent = agent_service.create_agent(req.deps.agents, req.tenant_id, spec, req.deps.settings)
    return json_response(agent_service.public(agent), 201)


@endpoint(bp, "/agents", ["GET"])
def list_agents(req: ApiRequest) -> Any:
    return json_response([agent_service.public(a) for a in req.deps.agents.list(req.tenant_id)])


@endpoint(bp, "/agents/{agent_id}", ["GET"])
def get_agent(req: ApiRequest, agent_id: str) -> Any:
    return json_response(agent_service.public(req.deps.agents.get(req.tenant_id, agent_id)))


@endpoint(bp, "/agents/{agent_id}", ["PATCH"], Change("agent.updated", "agent", "agent_id"))
def update_agent(req: ApiRequest, agent_id: str) -> Any:
    patch = AgentPatch.model_validate(req.json_object())
    agent = agent_service.update_agent(req.deps.agents, req.tenant_id, agent_id, patch, req.deps.settings)
    return json_response(agent_service.public(agent))


@endpoint(bp, "/agents/{agent_id}", ["DELETE"], Change("agent.deleted", "agent", "agent_id"))
def delete_agent(req: ApiRequest, agent_id: str) -> Any:
    agent_service.delete_agent(req.deps.agents, req.deps.batches, req.tenant_id, agent_id)
    return success("deleted")
