"""Operator tasks: issuing API keys and seeding a demo tenant for the local stack."""

from __future__ import annotations

from ..domain.agents import AgentCreate
from .agents import create_agent
from .auth import create_api_key
from .container import Dependencies, get_dependencies


def seed_demo(tenant_id: str = "local", deps: Dependencies | None = None) -> tuple[str, str]:
    """A fresh API key and a simulator agent for `tenant_id`; returns (api_key, agent_id)."""
    deps = deps or get_dependencies()
    key = create_api_key(deps.keys, tenant_id, "local stack")
    agent = create_agent(
        deps.agents,
        tenant_id,
        AgentCreate(
            name="Demo agent",
            provider="simulator",
            welcome_message="Hello {customer_name}, this is Acme calling about your {plan} plan.",
            from_phone_numbers=["+12025550147"],
            max_concurrent_calls=10,
            call_start_hour=0,
            call_end_hour=24,  # the demo calls at any hour; real agents keep the 9-21 default
        ),
        deps.settings,
    )
    return key, agent.agent_id
