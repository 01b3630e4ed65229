from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from themer.analytics.segments import nps_difference
from themer.analytics.trends import change_decomposition, nps_by_period, spike_alerts, theme_trends
from themer.cli import app
from themer.errors import InputFileError, StatsError, hint


def _responses(periods: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    rows = []
    for day, (p, m, d) in periods.items():
        rows += [(day, "promoter")] * p + [(day, "passive")] * m + [(day, "detractor")] * d
    rows.append((None, "promoter"))  # no date: left out
    return pd.DataFrame(rows, columns=["date", "category"])


def test_periods_hand_case() -> None:
    responses = _responses({"2025-02-10": (4, 0, 1), "2025-01-03": (2, 1, 2),
                            "2025-01-30": (1, 1, 1), "2025-04-01": (1, 0, 0)})
    rows = nps_by_period(responses, "month", min_n=2)
    assert [r.period for r in rows] == ["2025-01", "2025-02", "2025-04"]
    january, february, april = rows
    assert (january.n, january.nps) == (8, pytest.approx(0.0))
    assert january.change is None
    diff, _se, p = nps_difference((4, 0, 1), (3, 2, 3))
    assert february.change == pytest.approx(diff) == pytest.approx(60.0)
    assert february.p_value == pytest.approx(p)
    assert february.q_value == pytest.approx(p)  # the only testable change
    assert april.small_n
    assert april.q_value is None  # a period below min_n is not tested
    quarters = nps_by_period(responses, "quarter", min_n=2)
    assert [(r.period, r.n) for r in quarters] == [("2025Q1", 13), ("2025Q2", 1)]


def test_needs_dates() -> None:
    with pytest.raises(InputFileError, match="no usable response dates: no date column"):
        nps_by_period(pd.DataFrame({"category": ["promoter"], "date": [None]}))
    with pytest.raises(InputFileError, match=r"none parses as a date \(first value: 'last week'\)"):
        nps_by_period(pd.DataFrame({"category": ["promoter"], "date": ["last week"]}))
    assert "--date-col" in (hint("THM145", "cli") or "")


def test_cli_trends(tmp_path: Path, survey_csv: Path) -> None:
    frame = pd.read_csv(survey_csv)
    frame["answered"] = [f"2025-0{1 + i % 3}-15" for i in range(len(frame))]
    path = tmp_path / "dated.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "trends.json"
    result = CliRunner().invoke(app, ["trends", str(path), "--pool", "--date-col", "answered",
                                      "--min-n", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [p["period"] for p in data["periods"]] == ["2025-01", "2025-02", "2025-03"]
    assert sum(p["n"] for p in data["periods"]) == len(frame)


def _theme_data(months: list[tuple[str, int, int]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """months: (YYYY-MM, respondents, of whom mention 'x'); mentioners are detractors."""
    responses, mentions = [], []
    for month, n, hits in months:
        for i in range(n):
            rid = f"{month}-{i}"
            responses.append((rid, f"{month}-10", "detractor" if i < hits else "promoter"))
            if i < hits:
                mentions.append((rid, "x"))
    return (pd.DataFrame(responses, columns=["response_id", "date", "category"]),
            pd.DataFrame(mentions, columns=["response_id", "theme"]))


def test_theme_trends_hand_case() -> None:
    responses, mentions = _theme_data([("2025-01", 10, 2), ("2025-02", 4, 0)])
    table = theme_trends(responses, mentions, "month", min_n=2)
    assert table[["period", "theme", "period_n", "mentions"]].values.tolist() == [
        ["2025-01", "x", 10, 2], ["2025-02", "x", 4, 0]]
    assert table["share"].tolist() == pytest.approx([0.2, 0.0])
    assert table["nps"].iloc[0] == pytest.approx(-100.0)
    assert np.isnan(table["nps"].iloc[1])  # nobody mentioned it: no NPS, not zero


def test_spike_alert_fires_on_a_jump_and_not_on_a_flat_series() -> None:
    flat = [(f"2025-{m:02d}", 200, 20) for m in range(1, 8)]
    responses, mentions = _theme_data([*flat, ("2025-08", 200, 60)])
    alerts = spike_alerts(theme_trends(responses, mentions, "month"), window=6)
    assert [(a.period, a.theme) for a in alerts] == [("2025-08", "x")]
    alert = alerts[0]
    assert alert.band_mean == pytest.approx(0.1)
    assert alert.band_sd == pytest.approx(0.0)
    # The flat band's SD is 0, so the binomial floor sqrt(.1 x .9 / 200) sets the threshold.
    assert alert.threshold == pytest.approx(0.1 + 2 * np.sqrt(0.09 / 200))
    assert alert.history == 6
    assert alert.confirmed
    assert alert.q_value < 1e-6
    responses, mentions = _theme_data([*flat, ("2025-08", 200, 23)])
    assert spike_alerts(theme_trends(responses, mentions, "month")) == []


def test_spike_needs_history_and_n() -> None:
    responses, mentions = _theme_data([("2025-01", 50, 5), ("2025-02", 50, 5),
                                       ("2025-03", 50, 40)])
    trends = theme_trends(responses, mentions, "month")
    assert spike_alerts(trends, min_history=3) == []  # only 2 earlier months
    assert len(spike_alerts(trends, min_history=2)) == 1
    assert spike_alerts(trends, min_history=2, min_n=51) == []
    with pytest.raises(StatsError):
        spike_alerts(trends, window=2, min_history=3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.sampled_from(["promoter", "passive",
                                                               "detractor"]),
                          st.lists(st.sampled_from("abc"), unique=True, max_size=2)),
                min_size=2, max_size=50))
def test_change_decomposition_adds_up(rows: list[tuple[int, str, list[str]]]) -> None:
    responses = pd.DataFrame({"response_id": [f"r{i}" for i in range(len(rows))],
                              "date": [f"2025-0{m}-01" for m, _, _ in rows],
                              "category": [c for _, c, _ in rows]})
    mentions = pd.DataFrame([(f"r{i}", t) for i, (_, _, ts) in enumerate(rows) for t in ts],
                            columns=["response_id", "theme"])
    table = change_decomposition(responses, mentions, "month")
    periods = nps_by_period(responses, "month", min_n=1)
    changes = {p.period: p.change for p in periods if p.change is not None}
    assert set(table["period"]) == set(changes)
    for period, part in table.groupby("period"):
        assert part["total"].sum() == pytest.approx(changes[str(period)], abs=1e-9)
