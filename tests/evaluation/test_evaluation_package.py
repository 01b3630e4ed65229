"""The shape of themer.evaluation: rooms without cycles, light imports, stable names."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from graphlib import TopologicalSorter
from pathlib import Path

import numpy as np
import pytest

import themer.evaluation
import themer.evaluation.harness
from themer.errors import InputFileError
from themer.evaluation.crossval import cv_folds

PACKAGE = Path(themer.evaluation.__file__).parent
HEAVY = ("torch", "sentence_transformers", "spacy", "scipy", "statsmodels", "sklearn")


def imports_of(path: Path) -> set[str]:
    """The themer.evaluation modules a file imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {name for name in found if name.startswith("themer.evaluation")}


def test_rooms_import_each_other_without_a_cycle() -> None:
    graph = {f"themer.evaluation.{p.stem}": imports_of(p) for p in PACKAGE.glob("*.py")
             if p.stem != "__init__"}
    tuple(TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    assert graph["themer.evaluation.metrics"] == set()
    assert graph["themer.evaluation.compare"] == set()


def test_importing_evaluation_loads_no_heavy_library() -> None:
    code = ("import json, sys, themer.evaluation; "
            f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                       capture_output=True, text=True).stdout)
    assert loaded == []


def test_the_harness_still_exports_the_names_callers_use() -> None:
    for name in themer.evaluation.harness.__all__:
        assert getattr(themer.evaluation.harness, name) is getattr(themer.evaluation, name)
    assert set(themer.evaluation.__all__) <= set(dir(themer.evaluation))


def test_fold_errors_name_no_cli_flag() -> None:
    with pytest.raises(InputFileError, match="3-fold cross-validation needs") as info:
        cv_folds(np.eye(2, dtype=bool)[[0, 1, 0, 1, 0]], 3)
    assert info.value.code == "THM123"
    assert "--" not in str(info.value)
