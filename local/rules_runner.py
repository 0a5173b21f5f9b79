"""Runs a Chalice app's `@app.schedule` rules (EventBridge rules) on their `rate()`.

Chalice records each as a `ScheduledEventConfig` in `app.event_sources`, with the
expression as a string or a `Rate`/`Cron` object. `rate(N minute|minutes|hour|hours|
day|days)` is supported; `cron()` is logged and skipped (nothing in the service needs
a wall-clock rule locally). Like EventBridge, the first run comes one interval after
start. `LOCAL_RULES_INTERVAL_SECONDS` (or `interval_override`) replaces every interval,
so a demo or a test need not wait a minute for the sweeper.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from chalice.app import ScheduledEventConfig, ScheduleExpression

from chalicelib.settings import get_settings

from . import FunctionSettings, LambdaContext, function_settings

if TYPE_CHECKING:
    from chalice import Chalice
    from chalice.config import Config

logger = logging.getLogger(__name__)

INTERVAL_ENV = "LOCAL_RULES_INTERVAL_SECONDS"
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str | ScheduleExpression) -> int | None:
    """Seconds between runs of a `rate()` expression; None for anything else (cron)."""
    text = expression if isinstance(expression, str) else expression.to_string()
    match = _RATE.match(text.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def scheduled_event(fn: FunctionSettings) -> dict[str, Any]:
    """The event EventBridge sends a rule's target (what Chalice's `CloudWatchEvent` reads)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": fn.account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": fn.region,
        "resources": [f"arn:aws:events:{fn.region}:{fn.account_id}:rule/{fn.function_name}"],
        "detail": {},
    }


class RulesRunner:
    """One thread per `rate()` rule, invoking its handler every interval; overlapping runs never happen."""

    def __init__(
        self,
        app: Chalice,
        config: Config | None = None,
        *,
        interval_override: float | None = None,
        region: str | None = None,
        account_id: str | None = None,
    ) -> None:
        settings = get_settings()
        self._app = app
        self._config = config
        if interval_override is None and os.environ.get(INTERVAL_ENV):
            interval_override = float(os.environ[INTERVAL_ENV])
        self._interval_override = interval_override
        self._region = region or settings.aws_region
        self._account_id = account_id or settings.aws_account_id
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def rules(self) -> list[ScheduledEventConfig]:
        return [s for s in self._app.event_sources if isinstance(s, ScheduledEventConfig)]

    def interval_for(self, rule: ScheduledEventConfig) -> float | None:
        """Seconds between runs (the override if set), or None when the expression is not emulated."""
        seconds = rate_seconds(rule.schedule_expression)
        if seconds is None:
            return None
        return self._interval_override if self._interval_override is not None else float(seconds)

    def invoke(self, name: str) -> Any:
        """Run one rule's handler now, as EventBridge would; returns what the handler returned."""
        fn = function_settings(self._app, name, self._config, self._region, self._account_id)
        return self._app.handler_map[name](scheduled_event(fn), LambdaContext.for_function(fn))

    def start(self) -> RulesRunner:
        self._stopping.clear()
        for rule in self.rules():
            interval = self.interval_for(rule)
            expression = rule.schedule_expression
            text = expression if isinstance(expression, str) else expression.to_string()
            if interval is None:
                logger.warning("rule %s: %s is not emulated (only rate() is): not run", rule.name, text)
                continue
            thread = threading.Thread(
                target=self._run, args=(rule.name, interval), name=f"rule-{rule.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
            logger.info("rule %s: %s, run every %.1f s", rule.name, text, interval)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []

    def _run(self, name: str, interval: float) -> None:
        next_run = time.monotonic() + interval
        while not self._stopping.wait(max(0.0, next_run - time.monotonic())):
            try:
                self.invoke(name)
            except Exception as error:
                logger.error("rule %s failed: %s: %s", name, type(error).__name__, error)
                logger.debug("traceback of the failed %s run", name, exc_info=True)
            # A run longer than the interval delays the next one instead of piling up.
            next_run = max(next_run + interval, time.monotonic())

    def __enter__(self) -> RulesRunner:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
