"""The public URL a callback was signed for, when PUBLIC_BASE_URL is not configured."""

from __future__ import annotations

from chalicelib.services.callbacks import public_base


def test_api_gateway_host_and_stage_make_the_base() -> None:
    headers = {"host": "abc.execute-api.eu-west-1.amazonaws.com", "x-forwarded-proto": "https"}
    assert public_base("", headers, "api") == "https://abc.execute-api.eu-west-1.amazonaws.com/api"


def test_the_configured_url_wins_and_no_host_means_none() -> None:
    assert public_base("https://calls.example.com", {"host": "x"}, "api") is None
    assert public_base("", {}, "api") is None
    assert public_base("", {"host": "127.0.0.1:8000", "x-forwarded-proto": "http"}, None) == "http://127.0.0.1:8000"
