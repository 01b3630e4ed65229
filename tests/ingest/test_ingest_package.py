"""The shape of themer.ingest: rooms without cycles, light imports, one public surface."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from graphlib import TopologicalSorter
from pathlib import Path

import themer.ingest

PACKAGE = Path(themer.ingest.__file__).parent
NEVER = ("themer.analytics", "themer.nlp", "themer.store", "themer.config", "themer.cli",
         "typer", "fastapi", "torch", "sentence_transformers", "spacy", "scipy", "statsmodels",
         "sklearn")


def imports_of(path: Path) -> set[str]:
    """The themer.ingest modules a file imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("themer.ingest")}


def test_rooms_import_each_other_without_a_cycle() -> None:
    graph = {f"themer.ingest.{p.stem}": imports_of(p) for p in PACKAGE.glob("*.py")
             if p.stem != "__init__"}
    tuple(TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    assert graph["themer.ingest.profiles"] == {"themer.ingest.mapping"}


def test_importing_ingest_loads_no_engine_interface_or_heavy_library() -> None:
    code = ("import json, sys, themer.ingest; "
            f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({NEVER!r}))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                       capture_output=True, text=True).stdout)
    assert loaded == []


def test_the_package_exports_what_callers_use() -> None:
    for name in ("MAX_PROBLEMS_SHOWN", "LoadResult", "iter_responses", "load_mapping",
                 "merge_results", "read_table", "load_responses", "ColumnMapping", "column_key",
                 "detect_mapping", "detect_segments", "text_list", "validate_responses"):
        assert name in themer.ingest.__all__
    assert set(themer.ingest.__all__) <= set(dir(themer.ingest))
