from __future__ import annotations

import filecmp
import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_generator_reproduces_the_shipped_example(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["generate.py", str(tmp_path)])
    runpy.run_path(str(ROOT / "examples" / "generate.py"), run_name="__main__")
    for name in ("nps_survey.csv", "nps_survey_truth.csv"):
        assert filecmp.cmp(tmp_path / name, ROOT / "examples" / name, shallow=False), name


def test_example_looks_like_a_real_export() -> None:
    frame = pd.read_csv(ROOT / "examples" / "nps_survey.csv", keep_default_na=False)
    assert len(frame) == 2000
    assert frame["score"].between(0, 10).all()
    assert (frame["reason"] == "").mean() > 0.05  # some people leave no comment
    assert set(frame["survey_type"]) == {"relationship", "transactional"}
    assert {"plan", "role", "company_size", "cohort", "signup_date"} <= set(frame.columns)
