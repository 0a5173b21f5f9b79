"""Each provider's config is checked when the agent is saved, and HTTP agents' fields map through it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.provider_config import HttpAgentConfig, TwilioConfig, dig, parse_config, put, twilio_voicemail


def test_unknown_field_names_and_statuses_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="unknown names \\['phone'\\]"):
        HttpAgentConfig(endpoint="https://a.example/call", request_fields={"phone": "to"})
    with pytest.raises(ValidationError, match="unknown names \\['length'\\]"):
        HttpAgentConfig(endpoint="https://a.example/call", event_fields={"length": "x"})
    with pytest.raises(ValidationError, match="status_map values"):
        HttpAgentConfig(endpoint="https://a.example/call", status_map={"done": "finished"})
    with pytest.raises(ValidationError):
        parse_config("twilio", {"stream_url": "https://not-a-socket.example"})
    with pytest.raises(ValidationError):
        parse_config("twilio", {"credentials": "../other"})


def test_statuses_map_case_insensitively_with_overrides_on_top_of_the_defaults() -> None:
    config = HttpAgentConfig(endpoint="https://a.example/call", status_map={"SUCCESS": "completed"})
    assert config.status("success") == "completed"
    assert config.status("Call-Disconnected") == "completed"
    assert config.status("no-answer") == "no-answer"
    assert config.status("something else") is None


def test_dotted_paths_nest_and_read_back() -> None:
    body: dict = {}
    put(body, "metadata.execution_id", "e1")
    put(body, "to", "+1")
    assert body == {"metadata": {"execution_id": "e1"}, "to": "+1"}
    assert dig(body, "metadata.execution_id") == "e1"
    assert dig(body, "metadata.missing.deeper") is None and dig({"a": 1}, "a.b") is None


def test_answering_machine_results_mean_voicemail() -> None:
    assert twilio_voicemail("machine_end_beep") and twilio_voicemail("fax")
    assert not twilio_voicemail("human") and not twilio_voicemail("unknown") and not twilio_voicemail(None)
    assert TwilioConfig().machine_detection and TwilioConfig().credentials == "twilio"


def test_our_reference_is_looked_for_in_callbacks_where_the_request_put_it_unless_mapped() -> None:
    base = "https://a.example/call"
    assert HttpAgentConfig(endpoint=base).event_field("reference") == "metadata.execution_id"
    renamed = HttpAgentConfig(endpoint=base, request_fields={"reference": "meta.ref"})
    assert renamed.event_field("reference") == "meta.ref"
    mapped = HttpAgentConfig(endpoint=base, request_fields={"reference": "meta.ref"}, event_fields={"reference": "x"})
    assert mapped.event_field("reference") == "x"
