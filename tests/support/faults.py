"""Faults a test injects on purpose: a handler that dies once at a chosen point, a transaction that conflicts once."""

from __future__ import annotations

from typing import Any

import pytest


def die_once(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[bool]:
    """`module.name` raises once (the Lambda died there), then works as before: SQS delivers the message again.

    Returns the list that receives True when it died."""
    real = getattr(module, name)
    died: list[bool] = []

    def dies_once(*args: Any, **kwargs: Any) -> Any:
        if not died:
            died.append(True)
            raise RuntimeError(f"died in {name} (injected)")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, dies_once)
    return died
