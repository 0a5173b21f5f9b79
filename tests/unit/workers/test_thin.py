"""Workers stay thin adapters (parse the message, call one use case in services/), and every function stays readable."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[3] / "chalicelib"
MAX_WORKER_LINES = 120
MAX_FUNCTION_LINES = 50


@pytest.mark.parametrize("module", sorted((CHALICELIB / "workers").glob("*.py")), ids=lambda p: p.name)
def test_no_worker_module_holds_more_than_an_adapter(module: Path) -> None:
    assert len(module.read_text().splitlines()) <= MAX_WORKER_LINES


def test_no_function_in_chalicelib_is_over_fifty_lines() -> None:
    long = [
        f"{path.relative_to(CHALICELIB)}:{node.lineno} {node.name}"
        for path in sorted(CHALICELIB.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []
