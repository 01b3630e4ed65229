from __future__ import annotations

import pandas as pd
import pytest

from themer.errors import InputFileError
from themer.evaluation.compare import compare_reports, tag_drift


def test_compare_reports_and_refuses_different_data() -> None:
    a = {"n": 10, "mode": "zero-shot", "labels": ["x", "y"], "macro_f1": 0.5, "ece": 0.1,
         "per_label": {"x": {"precision": 0.5, "recall": 0.5, "f1": 0.5},
                       "y": {"precision": 1.0, "recall": 0.2, "f1": 1 / 3}}}
    b = {**a, "mode": "cv5", "labels": ["x", "z"], "macro_f1": 0.7,
         "per_label": {"x": {"precision": 0.75, "recall": 0.5, "f1": 0.6},
                       "z": {"precision": 1.0, "recall": 1.0, "f1": 1.0}}}
    diff = compare_reports(a, b)
    assert diff["metrics"]["macro_f1"]["delta"] == pytest.approx(0.2)
    assert diff["metrics"]["brier"] == {"a": None, "b": None, "delta": None}
    assert diff["per_label"]["x"]["precision"]["delta"] == pytest.approx(0.25)
    assert (diff["only_in_a"], diff["only_in_b"]) == (["y"], ["z"])
    with pytest.raises(InputFileError, match="different data"):
        compare_reports(a, {**b, "n": 11})
    with pytest.raises(InputFileError, match="missing"):
        compare_reports(a, {"n": 10})


def test_tag_drift_counts_changes_per_label() -> None:
    def tags(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=["statement_id", "kind", "label"])

    before = tags([("s1", "area", "billing"), ("s1", "type", "bug"), ("s2", "area", "billing"),
                   ("s2", "type", "praise"), ("s3", "area", "unassigned"), ("s3", "type", "bug")])
    after = tags([("s1", "area", "billing"), ("s1", "type", "bug"), ("s2", "area", "pricing"),
                  ("s2", "area", "billing"), ("s2", "type", "praise"), ("s3", "area", "search"),
                  ("s3", "type", "bug")])
    drift = tag_drift(before, after)
    assert drift["statements"] == 3
    assert drift["kinds"]["type"]["changed"] == 0
    area = drift["kinds"]["area"]
    assert area["changed"] == 2
    assert area["changed_share"] == pytest.approx(2 / 3)
    assert area["per_label"]["pricing"] == {"before": 0, "after": 1, "gained": 1, "lost": 0}
    assert area["per_label"]["unassigned"] == {"before": 1, "after": 0, "gained": 0, "lost": 1}
    with pytest.raises(InputFileError, match="same statements"):
        tag_drift(before, after[after["statement_id"] != "s3"])
