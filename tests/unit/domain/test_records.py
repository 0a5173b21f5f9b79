"""The stored records: what is stored comes back whole, and the wire shapes made from them keep the stored values."""

from __future__ import annotations

import json

from chalicelib.domain.batches import public_execution
from chalicelib.domain.records import Agent, Execution


def test_an_attribute_the_record_does_not_name_yet_is_kept_not_dropped() -> None:
    # Given an agent item holding a field added to the API after the record was written (e.g. calling rules)
    item = {"tenant_id": "t", "agent_id": "a", "name": "A", "calling_hours": {"mon": [["09:00", "12:00"]]}}
    # When it is read into a record and written back
    agent = Agent.model_validate(item)
    # Then nothing is lost, and the field reads like any other
    assert agent.to_item() == item
    assert getattr(agent, "calling_hours") == {"mon": [["09:00", "12:00"]]}  # noqa: B009


def test_only_the_fields_given_are_written_and_none_is_left_out() -> None:
    # Given a record built from some fields (the others take defaults)
    agent = Agent(tenant_id="t", agent_id="a", webhook_url=None, max_concurrent_calls=3)
    # Then the item holds exactly those given, the None left out: defaults never overwrite stored values
    assert agent.to_item() == {"tenant_id": "t", "agent_id": "a", "max_concurrent_calls": 3}


def test_numbers_keep_their_stored_form_on_the_wire() -> None:
    # Given an execution read back from DynamoDB (whole numbers arrive as int)
    stored = {"execution_id": "e", "batch_id": "b", "tenant_id": "t", "agent_id": "a", "status": "completed"}
    execution = Execution.model_validate({**stored, "conversation_duration": 30, "total_cost": 0.5})
    # Then Bolna's execution object shows them as stored: 30, not 30.0
    shown = json.dumps(public_execution(execution))
    assert '"conversation_duration": 30,' in shown and '"total_cost": 0.5,' in shown
    assert '"status": "completed"' in shown
