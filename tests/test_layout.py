"""The house rules that keep rooms small: no module over 500 lines, no function over 80."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for folder in ("themer", "api") for p in (ROOT / folder).rglob("*.py")
                 if "migrations" not in p.parts)
MAX_LINES = 500
MAX_FUNCTION_LINES = 80


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)}: {lines} lines"


def test_functions_are_short() -> None:
    long = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                size = node.end_lineno - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size})")
    assert not long, long


def test_the_doors_are_thin() -> None:
    assert not (ROOT / "themer" / "cli.py").exists()
    assert len((ROOT / "api" / "app.py").read_text(encoding="utf-8").splitlines()) < 150


def test_test_files_have_unique_names() -> None:
    """pytest's default import mode needs one basename per test module (tests mirror the
    packages, so two packages' test_package.py would collide)."""
    names = [p.name for p in (ROOT / "tests").rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
