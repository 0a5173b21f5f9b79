"""The `batchcall` console script's entry point (pyproject.toml: `batchcall = "batchcall_cli.main:app"`)."""

from __future__ import annotations

from . import commands  # noqa: F401  (registers the commands on the apps)
from .cli import app

__all__ = ["app"]
