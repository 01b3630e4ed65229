from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from typer.testing import CliRunner

from themer.analytics.segments import cohort, nps_difference, segment_table, usage_depth
from themer.cli import app
from themer.errors import InputFileError, StatsError, hint


def _responses(groups: dict[str, tuple[int, int, int]], name: str = "plan") -> pd.DataFrame:
    rows = []
    for value, (p, m, d) in groups.items():
        rows += [(value, "promoter")] * p + [(value, "passive")] * m + [(value, "detractor")] * d
    return pd.DataFrame(rows, columns=[f"segment:{name}", "category"])


def test_nps_difference_hand_case() -> None:
    # a: NPS +30, Var = 1e4 (0.7 - 0.09) / 10 = 610; b: NPS -60, Var = 1e4 (0.8 - 0.36) / 10 = 440
    diff, se, p = nps_difference((5, 3, 2), (1, 2, 7))
    assert diff == pytest.approx(90.0)
    assert se == pytest.approx(math.sqrt(1050))
    assert p == pytest.approx(2 * norm.sf(90 / math.sqrt(1050)))
    with pytest.raises(StatsError):
        nps_difference((0, 0, 0), (1, 1, 1))


@given(st.tuples(*[st.integers(0, 50)] * 3), st.tuples(*[st.integers(0, 50)] * 3))
def test_swapping_groups_flips_the_sign_only(a: tuple[int, int, int],
                                             b: tuple[int, int, int]) -> None:
    if sum(a) == 0 or sum(b) == 0:
        return
    forward, backward = nps_difference(a, b), nps_difference(b, a)
    assert forward[0] == pytest.approx(-backward[0])
    assert forward[1:] == pytest.approx(backward[1:])


def test_segment_table_hand_case_and_small_groups() -> None:
    responses = _responses({"pro": (30, 10, 10), "free": (5, 5, 30), "tiny": (1, 0, 1)})
    table = segment_table(responses, min_n=10)
    rows = {r.value: r for r in table.rows}
    assert table.overall_n == 92
    assert table.overall_nps == pytest.approx(100 * (36 - 41) / 92)
    pro = rows["pro"]
    assert (pro.n, pro.nps) == (50, pytest.approx(40.0))
    diff, se, p = nps_difference((30, 10, 10), (6, 5, 31))
    assert pro.diff == pytest.approx(diff)
    assert pro.p_value == pytest.approx(p)
    assert pro.diff_ci_low == pytest.approx(diff - norm.ppf(0.975) * se)
    assert rows["free"].significantly_below
    assert not pro.significantly_below  # above the rest, not below
    tiny = rows["tiny"]
    assert tiny.small_n
    assert tiny.q_value is None  # not in the BH family
    assert not tiny.significantly_below
    hidden = segment_table(responses, min_n=10, suppress_small=True)
    assert [r.value for r in hidden.rows] == ["free", "pro"]
    assert hidden.suppressed == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 40)] * 3), min_size=2, max_size=12))
def test_bh_q_values_are_at_least_p_and_monotone(groups: list[tuple[int, int, int]]) -> None:
    responses = _responses({f"g{i}": g for i, g in enumerate(groups)})
    if len(responses) == 0:
        return
    rows = [r for r in segment_table(responses, min_n=1).rows if r.q_value is not None]
    for row in rows:
        assert row.p_value is not None
        assert row.q_value >= row.p_value - 1e-12  # type: ignore[operator]
    ordered = sorted(rows, key=lambda r: r.p_value)  # type: ignore[arg-type, return-value]
    qs = [r.q_value for r in ordered]
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(qs))  # type: ignore[operator]


def test_segment_errors_name_what_to_pass() -> None:
    responses = _responses({"a": (1, 1, 1)})
    with pytest.raises(InputFileError, match=r"no segment column for \['role'\] "
                       r"\(segments present: \['plan'\]\)") as caught:
        segment_table(responses, ["role"])
    assert "--segment NAME=COLUMN" in (hint(caught.value.code, "cli") or "")
    with pytest.raises(InputFileError, match="no segment columns") as caught:
        segment_table(responses.drop(columns=["segment:plan"]))
    assert "--segment NAME=COLUMN" in (hint(caught.value.code, "cli") or "")


def test_usage_depth_and_cohort() -> None:
    depth = usage_depth(pd.Series([1, 2, 3, 4, 5, 6, None, "x"], name="logins"))
    assert depth.tolist()[:6] == ["light", "light", "medium", "medium", "heavy", "heavy"]
    assert depth.isna().tolist()[6:] == [True, True]
    dates = pd.Series(["2024-01-15", "2024-05-02", "not a date"])
    assert cohort(dates).tolist()[:2] == ["2024Q1", "2024Q2"]
    assert cohort(dates, "month").tolist()[:2] == ["2024-01", "2024-05"]
    assert pd.isna(cohort(dates).iloc[2])
    with pytest.raises(InputFileError, match="numeric"):
        usage_depth(pd.Series(["a", "b"], name="usage"))


def test_cli_segments_json(tmp_path: Path, survey_csv: Path) -> None:
    out = tmp_path / "segments.json"
    result = CliRunner().invoke(app, ["segments", str(survey_csv), "--pool", "--segment",
                                      "plan=plan", "--min-n", "3", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["pooled"] is True
    assert data["correction"] == "benjamini-hochberg"
    assert {r["value"] for r in data["segments"]} == {"pro", "free", "business"}
    assert sum(r["n"] for r in data["segments"]) == data["overall"]["n"] == 12
    found = CliRunner().invoke(app, ["segments", str(survey_csv), "--pool", "--min-n", "3",
                                     "--json", "-"])
    assert found.exit_code == 0, found.output  # plan is detected as a segment column
    assert {r["segment"] for r in json.loads(found.stdout)["segments"]} == {"plan"}
    bare = tmp_path / "bare.csv"
    pd.read_csv(survey_csv).drop(columns=["plan"]).to_csv(bare, index=False)
    missing = CliRunner().invoke(app, ["segments", str(bare), "--pool"])
    assert missing.exit_code == 2
    assert "--segment" in missing.output
    assert np.isfinite(data["overall"]["nps"])
