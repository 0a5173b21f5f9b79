"""Agent use cases and their public shape."""

from __future__ import annotations

import uuid

from pydantic import ValidationError

from .. import clock
from ..domain.agents import ALL_DAYS, AgentCreate, AgentPatch
from ..domain.batch_status import TERMINAL, BatchStatus
from ..domain.calling_rules import SHORTHAND_FIELDS
from ..domain.json_input import JsonObject
from ..domain.provider_config import HttpAgentConfig, parse_config
from ..domain.records import Agent
from ..errors import BadRequest, Conflict
from ..settings import Settings
from ..store.agents import AgentStore
from ..store.batches import BatchStore
from ..store.dynamo import Fields
from .webhooks import validate_webhook_url

PUBLIC_FIELDS = (
    "agent_id",
    "name",
    "provider",
    "welcome_message",
    "prompt",
    "from_phone_numbers",
    "max_concurrent_calls",
    "calls_per_second",
    "call_start_hour",
    "call_end_hour",
    "call_days",
    "calling_hours",
    "blocked_dates",
    "skip_public_holidays",
    "timezone",
    "webhook_url",
    "retry_config",
    "monthly_max_spend",
    "extraction_schema",
    "max_attempts_per_number",
    "attempt_window_days",
    "created_at",
    "updated_at",
)


def public(agent: Agent) -> JsonObject:
    """The agent as the API shows it; provider_config may hold secrets, so only its keys are shown."""
    stored = agent.model_dump(mode="json", include=set(PUBLIC_FIELDS))
    shown = {name: stored.get(name) for name in PUBLIC_FIELDS}
    shown["id"] = agent.agent_id
    shown["provider_config_keys"] = sorted((agent.provider_config or {}).keys())
    return shown


def check_webhook(settings: Settings, url: str | None) -> None:
    """An agent's webhook_url passes the same SSRF checks as a batch's, when it is set."""
    if url:
        validate_webhook_url(url, settings, "webhook_url")


def check_provider(settings: Settings, provider: str, config: JsonObject | None) -> None:
    """`provider_config` must suit the provider; an HTTP agent's endpoint passes the webhook SSRF checks."""
    try:
        parsed = parse_config(provider, config)
    except ValidationError as exc:
        details = [
            {"field": ".".join(("provider_config", *(str(p) for p in err["loc"]))), "message": err["msg"]}
            for err in exc.errors()
        ]
        raise BadRequest(
            f"provider_config does not suit provider {provider!r}", code="invalid_provider_config", details=details
        ) from None
    if isinstance(parsed, HttpAgentConfig):
        validate_webhook_url(parsed.endpoint, settings, "provider_config.endpoint")


def create_agent(store: AgentStore, tenant_id: str, spec: AgentCreate, settings: Settings) -> Agent:
    """Every caller (the API, the demo seeding) goes through the webhook and provider checks."""
    check_webhook(settings, spec.webhook_url)
    check_provider(settings, spec.provider, spec.provider_config)
    now = clock.now_iso()
    fields = spec.model_dump(mode="json")
    if spec.calling_hours is not None:  # it replaces the shorthand, which is shown null rather than ignored
        fields.update(dict.fromkeys(SHORTHAND_FIELDS))
    agent = Agent.model_validate(
        {**fields, "tenant_id": tenant_id, "agent_id": uuid.uuid4().hex, "created_at": now, "updated_at": now}
    )
    store.create(agent)
    return agent


def update_agent(store: AgentStore, tenant_id: str, agent_id: str, patch: AgentPatch, settings: Settings) -> Agent:
    check_webhook(settings, patch.webhook_url)
    changes = patch.model_dump(mode="json", exclude_unset=True)
    if not changes:
        raise BadRequest("nothing to update: send at least one agent field", code="empty_patch")
    current = store.get(tenant_id, agent_id)
    _one_hours_rule(current, changes)
    merged = {**current.model_dump(mode="json"), **changes}
    needed: tuple[str, ...] = ("name", "provider", "max_concurrent_calls")
    if merged.get("calling_hours") is None:
        needed += SHORTHAND_FIELDS
    for required in needed:
        if merged.get(required) is None:
            raise BadRequest(f"{required} cannot be removed", code="invalid_agent", details=[{"field": required}])
    if merged.get("calling_hours") is None and merged["call_start_hour"] == merged["call_end_hour"]:
        raise BadRequest("call_start_hour and call_end_hour must differ", code="invalid_agent")
    if "provider" in changes or "provider_config" in changes:
        check_provider(settings, merged["provider"], merged.get("provider_config"))
    changes["updated_at"] = clock.now_iso()
    return store.update(tenant_id, agent_id, changes)


SHORTHAND_DEFAULTS: dict[str, object] = {"call_start_hour": 9, "call_end_hour": 21, "call_days": list(ALL_DAYS)}


def _one_hours_rule(current: Agent, changes: Fields) -> None:
    """Exactly one form of calling hours is stored: setting `calling_hours` clears the shorthand, and setting
    the shorthand (or `calling_hours: null`) clears `calling_hours`, the shorthand's unset parts taking
    their defaults when the agent had none."""
    if changes.get("calling_hours") is not None:
        changes.update(dict.fromkeys(SHORTHAND_FIELDS))
    elif "calling_hours" in changes or set(changes) & set(SHORTHAND_FIELDS):
        changes["calling_hours"] = None
        if current.calling_hours is not None:
            for name, default in SHORTHAND_DEFAULTS.items():
                if changes.get(name, getattr(current, name)) is None:
                    changes[name] = default


NAMED_IN_MESSAGE = 5


def delete_agent(agents: AgentStore, batches: BatchStore, tenant_id: str, agent_id: str) -> None:
    """Refused while any of the agent's batches may still dial: without its agent a batch could never
    place its calls nor finish. A batch is free of its agent once stopped, completed, failed or deleted."""
    agents.get(tenant_id, agent_id)
    busy = [b for b in batches.list_for_agent(tenant_id, agent_id) if BatchStatus(b.status) not in TERMINAL]
    if busy:
        named = ", ".join(f"{b.batch_id} ({b.status})" for b in busy[:NAMED_IN_MESSAGE])
        more = f" and {len(busy) - NAMED_IN_MESSAGE} more" if len(busy) > NAMED_IN_MESSAGE else ""
        raise Conflict(
            f"agent {agent_id} is used by {len(busy)} batch(es) not yet finished: {named}{more}; "
            "stop them (POST /batches/{id}/stop) or delete them (DELETE /batches/{id}) first, "
            "or wait until they complete",
            code="agent_in_use",
            details=[{"batch_id": b.batch_id, "status": b.status} for b in busy],
        )
    agents.delete(tenant_id, agent_id)
