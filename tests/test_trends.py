from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.cli import app
from themer.errors import InputFileError
from themer.segments import nps_difference
from themer.trends import nps_by_period


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
    with pytest.raises(InputFileError, match="--date-col"):
        nps_by_period(pd.DataFrame({"category": ["promoter"], "date": [None]}))
    with pytest.raises(InputFileError, match="no parseable response dates"):
        nps_by_period(pd.DataFrame({"category": ["promoter"], "date": ["last week"]}))


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
