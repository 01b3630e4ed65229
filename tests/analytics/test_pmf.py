from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.analytics.pmf import by_survey_type, cohort_fit, segment_spread
from themer.cli import app
from themer.errors import InputFileError, hint


def _rows(groups: dict[str, tuple[int, int, int]], column: str) -> pd.DataFrame:
    rows = []
    for value, (p, m, d) in groups.items():
        rows += [(value, "promoter")] * p + [(value, "passive")] * m + [(value, "detractor")] * d
    return pd.DataFrame(rows, columns=[column, "category"])


def test_cohort_fit_reads_the_interval_against_40_percent() -> None:
    responses = _rows({"2024Q1": (80, 10, 10), "2024Q2": (10, 60, 30), "2024Q3": (4, 3, 3)},
                      "segment:cohort")
    fits = {f.cohort: f for f in cohort_fit(responses, min_n=20)}
    assert fits["2024Q1"].promoter_share == pytest.approx(0.8)
    assert fits["2024Q1"].signal == "above_40"
    assert fits["2024Q2"].signal == "below_40"
    assert fits["2024Q3"].signal == "unclear"  # 40% with n = 10: the interval straddles it
    assert fits["2024Q3"].small_n
    # Wilson interval by hand for 8 of 10... here 80 of 100
    p, n, z = 0.8, 100, 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert fits["2024Q1"].ci_low == pytest.approx(centre - half)
    with pytest.raises(InputFileError, match="no cohort column") as caught:
        cohort_fit(responses.drop(columns=["segment:cohort"]))
    assert "--cohort-col" in (hint(caught.value.code, "cli") or "")


def test_segment_spread_hand_case() -> None:
    # a: NPS +50 (n 20), b: NPS -50 (n 20): weighted mean 0, SD 50
    responses = _rows({"a": (12, 6, 2), "b": (2, 6, 12)}, "segment:plan")
    spread = segment_spread(responses, "plan")
    assert (spread.nps_min, spread.nps_max) == (pytest.approx(-50.0), pytest.approx(50.0))
    assert spread.weighted_sd == pytest.approx(50.0)
    assert spread.chi2_p_value < 0.01
    with pytest.raises(InputFileError, match="fewer than two values"):
        segment_spread(_rows({"a": (1, 1, 1)}, "segment:plan"), "plan")


def test_survey_types_stay_apart() -> None:
    responses = _rows({"relationship": (6, 2, 2), "transactional": (1, 1, 8)}, "survey_type")
    types = {t.survey_type: t for t in by_survey_type(responses)}
    assert types["relationship"].nps == pytest.approx(40.0)
    assert types["transactional"].nps == pytest.approx(-70.0)


def test_cli_pmf(tmp_path: Path, survey_csv: Path) -> None:
    frame = pd.read_csv(survey_csv)
    frame["signup"] = ["2024-01-10", "2024-04-02"] * (len(frame) // 2)
    path = tmp_path / "survey.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "pmf.json"
    result = CliRunner().invoke(app, ["pmf", str(path), "--pool", "--cohort-col", "signup",
                                      "--segment", "plan=plan", "--min-n", "2",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [c["cohort"] for c in data["cohorts"]] == ["2024Q1", "2024Q2"]
    assert {t["survey_type"] for t in data["survey_types"]} == {"relationship", "transactional"}
    assert data["segment_spread"][0]["segment"] == "plan"
    # no cohort column and no segment (plan would be found by the segment detection)
    bare = tmp_path / "bare.csv"
    frame.drop(columns=["plan"]).to_csv(bare, index=False)
    assert CliRunner().invoke(app, ["pmf", str(bare), "--pool"]).exit_code == 2
    found = CliRunner().invoke(app, ["pmf", str(path), "--pool", "--min-n", "2"])
    assert found.exit_code == 0, found.output  # plan detected as a segment
