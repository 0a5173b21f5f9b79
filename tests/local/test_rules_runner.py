"""The rules runner invokes `app.schedule` rate rules with EventBridge's scheduled event."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from chalice import Chalice, Cron, Rate
from chalice.app import CloudWatchEvent

from local import wait_until
from local.rules_runner import INTERVAL_ENV, RulesRunner, rate_seconds


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        (Rate(1, unit=Rate.MINUTES), 60),
        (Rate(3, unit=Rate.HOURS), 10800),
        ("cron(0 12 * * ? *)", None),
        (Cron(0, 12, "*", "*", "?", "*"), None),
    ],
)
def test_reads_rate_expressions(expression: str | Rate | Cron, seconds: int | None) -> None:
    assert rate_seconds(expression) == seconds


def make_app(events: list[Any], fail: bool = False) -> Chalice:
    app = Chalice(app_name="tiny")
    lock = threading.Lock()

    @app.schedule(Rate(1, unit=Rate.MINUTES), name="sweeper")
    def sweeper(event: CloudWatchEvent) -> None:
        with lock:
            events.append(event)
        if fail:
            raise RuntimeError("sweep failed")

    @app.schedule("cron(0 12 * * ? *)", name="nightly")
    def nightly(event: CloudWatchEvent) -> None:
        events.append("nightly ran")

    return app


def test_invokes_a_rate_rule_every_interval(caplog: pytest.LogCaptureFixture) -> None:
    events: list[Any] = []
    app = make_app(events)
    runner = RulesRunner(app, interval_override=0.05, region="eu-west-1", account_id="111122223333")
    assert [r.name for r in runner.rules()] == ["sweeper", "nightly"]

    with caplog.at_level(logging.WARNING, logger="local.rules_runner"), runner:
        assert wait_until(lambda: len(events) >= 3)

    assert "nightly ran" not in events
    assert any("nightly" in r.getMessage() and "not emulated" in r.getMessage() for r in caplog.records)
    event: CloudWatchEvent = events[0]
    assert event.detail_type == "Scheduled Event"
    assert event.source == "aws.events"
    assert event.account == "111122223333"
    assert event.region == "eu-west-1"
    assert event.resources == ["arn:aws:events:eu-west-1:111122223333:rule/tiny-dev-sweeper"]
    context: Any = event.context
    assert context.function_name == "tiny-dev-sweeper"
    assert len({e.event_id for e in events}) == len(events)


def test_a_failing_rule_is_logged_and_runs_again(caplog: pytest.LogCaptureFixture) -> None:
    events: list[Any] = []
    with (
        caplog.at_level(logging.ERROR, logger="local.rules_runner"),
        RulesRunner(make_app(events, fail=True), interval_override=0.05),
    ):
        assert wait_until(lambda: len(events) >= 2)
    assert any("sweeper failed: RuntimeError: sweep failed" in r.getMessage() for r in caplog.records)


def test_interval_from_the_environment_or_the_expression(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app([])
    sweeper = next(r for r in RulesRunner(app).rules() if r.name == "sweeper")
    monkeypatch.delenv(INTERVAL_ENV, raising=False)
    assert RulesRunner(app).interval_for(sweeper) == 60
    monkeypatch.setenv(INTERVAL_ENV, "2.5")
    assert RulesRunner(app).interval_for(sweeper) == 2.5
