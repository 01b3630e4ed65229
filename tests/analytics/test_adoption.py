from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from themer.analytics.adoption import adoption_flags, adoption_table, gap_matrix, quadrant
from themer.analytics.segments import nps_difference
from themer.cli import app
from themer.errors import InputFileError, hint


def _frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """rows of (category, adoption flag, plan)."""
    return pd.DataFrame(rows, columns=["category", "segment:feature:export", "segment:plan"])


def test_gap_hand_case_and_quadrant() -> None:
    # adopters: 6 promoters, 2 passives, 2 detractors (NPS +40); non-adopters: 1/1/3 (NPS -40)
    rows = ([("promoter", "1", "pro")] * 6 + [("passive", "yes", "pro")] * 2
            + [("detractor", "true", "pro")] * 2 + [("promoter", "0", "free")]
            + [("passive", "no", "free")] + [("detractor", "n", "free")] * 3
            + [("promoter", "", "free")])  # unknown adoption: left out of both sides
    gaps = adoption_table(_frame(rows), min_n=1)
    (gap,) = gaps
    diff, _se, p = nps_difference((6, 2, 2), (1, 1, 3))
    assert (gap.adopters, gap.non_adopters) == (10, 5)
    assert gap.nps_adopters == pytest.approx(40.0)
    assert gap.gap == pytest.approx(diff) == pytest.approx(80.0)
    assert gap.p_value == pytest.approx(p)
    assert gap.q_value == pytest.approx(p)  # a family of one
    assert gap.usage_rate == pytest.approx(10 / 15)
    # one feature: its usage is the median, so it is "high usage"; NPS +40 > overall +18.75
    assert gap.quadrant == "strength"


def test_quadrants() -> None:
    cuts = {"usage_cut": 0.5, "nps_cut": 10.0}
    assert quadrant(0.8, 30, **cuts) == "strength"
    assert quadrant(0.2, 30, **cuts) == "hidden_gem"
    assert quadrant(0.2, -5, **cuts) == "sunset_candidate"
    assert quadrant(0.8, -5, **cuts) == "required_but_painful"


def test_flags_reject_unknown_values_naming_the_row() -> None:
    values = pd.Series(["1", "0", "maybe"])
    with pytest.raises(InputFileError, match=r"row 4, adoption column of feature 'export'"):
        adoption_flags(values, "export", [2, 3, 4])
    assert adoption_flags(pd.Series(["Y", "", "False"]), "x").tolist() == [True, pd.NA, False]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["promoter", "passive", "detractor"]),
                          st.booleans()), min_size=4, max_size=60))
def test_inverting_adoption_flips_the_gap(rows: list[tuple[str, bool]]) -> None:
    frame = _frame([(c, "1" if used else "0", "pro") for c, used in rows])
    inverted = _frame([(c, "0" if used else "1", "pro") for c, used in rows])
    (a,), (b,) = adoption_table(frame, min_n=1), adoption_table(inverted, min_n=1)
    if a.gap is None:
        assert b.gap is None
        return
    assert b.gap == pytest.approx(-a.gap)
    assert b.p_value == pytest.approx(a.p_value)


def test_gap_matrix_blanks_small_cells() -> None:
    rows = ([("promoter", "1", "pro")] * 5 + [("detractor", "0", "pro")] * 5
            + [("promoter", "1", "free")] * 5 + [("detractor", "0", "free")])
    heat, cells = gap_matrix(_frame(rows), "plan", min_n=2)
    assert heat.loc["export", "pro"] == pytest.approx(200.0)
    assert np.isnan(heat.loc["export", "free"])  # one non-adopter: below min_n
    assert {c.segment for c in cells} == {"pro", "free"}
    with pytest.raises(InputFileError, match=r"no segment column for \['role'\]") as caught:
        gap_matrix(_frame(rows), "role")
    assert caught.value.code == "THM136"
    assert "--segment NAME=COLUMN" in (hint("THM136", "cli") or "")  # the fix, in CLI terms


def test_cli_adoption(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 80
    data = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "score": rng.integers(0, 11, n),
                         "comment": ["ok"] * n, "uses_export": rng.integers(0, 2, n),
                         "plan": rng.choice(["pro", "free"], n)})
    path = tmp_path / "survey.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "adoption.json"
    result = CliRunner().invoke(app, ["adoption", str(path), "--feature", "export=uses_export",
                                      "--segment", "plan=plan", "--by", "plan", "--min-n", "5",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    (feature,) = report["features"]
    assert feature["adopters"] + feature["non_adopters"] == n
    assert feature["adopters"] == int(data["uses_export"].sum())
    assert report["heatmap"]["values"] == ["free", "pro"]
    missing = CliRunner().invoke(app, ["adoption", str(path)])
    assert missing.exit_code == 2
    assert "--feature NAME=COLUMN" in missing.output
