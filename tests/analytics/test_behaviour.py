from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu
from typer.testing import CliRunner

from themer.analytics.behaviour import behaviour_table
from themer.cli import app
from themer.errors import InputFileError, hint


def test_behaviour_hand_case() -> None:
    responses = pd.DataFrame({"category": ["promoter"] * 3 + ["passive"] + ["detractor"] * 2})
    logins = pd.Series([5, 6, 7, 100, 1, 2])
    days = pd.Series([10, "n/a", 30, 1, 20, 40])  # non-numeric cells are left out, and counted
    rows = {r.measure: r for r in behaviour_table(responses, {"logins": logins, "days": days},
                                                  min_n=1)}
    login = rows["logins"]
    assert (login.promoters_n, login.detractors_n) == (3, 2)  # the passive is not compared
    assert login.promoters_mean == pytest.approx(6.0)
    assert login.detractors_median == pytest.approx(1.5)
    assert login.mean_difference == pytest.approx(4.5)
    assert login.rank_biserial == pytest.approx(1.0)  # every promoter above every detractor
    assert login.p_value == pytest.approx(mannwhitneyu([5, 6, 7], [1, 2]).pvalue)
    assert rows["days"].promoters_n == 2
    assert rows["days"].not_numeric == 1
    assert login.not_numeric == 0
    blanks = behaviour_table(responses, {"x": pd.Series(["1", "", None, " ", "2", "3"])}, min_n=1)
    assert blanks[0].not_numeric == 0  # blank is missing, not a typo
    assert rows["days"].rank_biserial == pytest.approx(-0.5)
    for row in rows.values():
        assert row.q_value is not None
        assert row.p_value is not None
        assert row.q_value >= row.p_value - 1e-12


def test_small_groups_are_flagged_and_not_tested_for_q() -> None:
    responses = pd.DataFrame({"category": ["promoter", "detractor"]})
    (row,) = behaviour_table(responses, {"x": pd.Series([3, 1])}, min_n=5)
    assert row.small_n
    assert row.q_value is None
    with pytest.raises(InputFileError, match="no behaviour measure columns") as caught:
        behaviour_table(responses, {})
    assert "--measure" in (hint(caught.value.code, "cli") or "")


def test_cli_behaviour(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    score = rng.integers(0, 11, 90)
    data = pd.DataFrame({"id": [f"r{i}" for i in range(90)], "score": score,
                         "comment": ["fine"] * 90, "logins": score + rng.integers(0, 3, 90),
                         "uses_export": rng.integers(0, 2, 90)})
    path = tmp_path / "survey.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "behaviour.json"
    result = CliRunner().invoke(app, ["behaviour", str(path), "--measure", "logins=logins",
                                      "--feature", "export=uses_export", "--min-n", "5",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    measures = {m["measure"]: m for m in json.loads(out.read_text())["measures"]}
    assert set(measures) == {"logins", "features_adopted"}
    assert measures["logins"]["rank_biserial"] > 0.9  # logins track the score here
    assert measures["logins"]["promoters_n"] == int((score >= 9).sum())
