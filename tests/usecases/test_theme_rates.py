"""Which error rates the theme table gets: from the heads the tagging used, or none (why)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from themer.analytics.quantify import ErrorCounts
from themer.config import Settings
from themer.usecases.context import Context
from themer.usecases.inputs import Dataset, Inputs
from themer.usecases.themes import ZERO_SHOT_NOTE, tagging_error_rates


def _data(sources: dict[str, str], fallback: Any = None) -> Dataset:
    tagger = SimpleNamespace(sources=sources, fallback=fallback)
    return Dataset(pd.DataFrame(), "relationship", False, tagger=tagger)  # type: ignore[arg-type]


def test_rates_come_from_the_heads_the_tagger_used(tmp_path: Path) -> None:
    head = tmp_path / "models" / "types-v1"
    head.mkdir(parents=True)
    counts = {"bug": {"tp": 8, "fp": 2, "fn": 2, "tn": 88}}
    (head / "head.json").write_text(json.dumps({"error_rates": counts}), encoding="utf-8")
    old = tmp_path / "elsewhere" / "areas-old"
    old.mkdir(parents=True)
    (old / "head.json").write_text(json.dumps({"labels": ["billing"]}), encoding="utf-8")
    ctx = Context(Settings(models_dir=tmp_path / "models"))
    found = tagging_error_rates(
        ctx, Inputs(head=(old,)), _data({"area": "head:areas-old", "type": "head:types-v1"}))
    assert found.pooled == {"type": {"bug": ErrorCounts(8, 2, 2, 88)}}
    assert found.notes == {"area": "head areas-old has no measured error rates: retrain it"}
    assert found.by_group == {"type": {}}


def test_zero_shot_stored_and_cascade_tags_have_none(tmp_path: Path) -> None:
    ctx = Context(Settings(models_dir=tmp_path))
    found = tagging_error_rates(ctx, Inputs(), _data({"area": "zero-shot", "type": "zero-shot"}))
    assert found.pooled == {}
    assert found.notes == {"area": ZERO_SHOT_NOTE, "type": ZERO_SHOT_NOTE}
    stored = Dataset(pd.DataFrame(), "relationship", False, classifier="tags from the store")
    found = tagging_error_rates(ctx, Inputs(), stored)
    assert found.pooled == {}
    assert "tags from the store" in found.notes["area"]
    found = tagging_error_rates(ctx, Inputs(), _data({"area": "head:x", "type": "head:y"},
                                                     fallback=object()))
    assert found.pooled == {}
    assert "cascade" in found.notes["type"]
