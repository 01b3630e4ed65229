"""The theme-level analysis commands, fed a tag file (`--tags`) so no model is needed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.cli import app


@pytest.fixture
def tagged(tmp_path: Path) -> tuple[Path, Path]:
    """200 respondents over 8 months: on the free plan, reliability complaints come with a
    detractor score; the fix on 2025-05-01 ends them."""
    rows, tags = [], []
    for i in range(200):
        month = 1 + i % 8
        free = i % 4 == 0
        complains = free and month < 5
        score = 3 if complains else 8 if free else (9 if i % 3 else 7)
        text = "the sync loses data" if complains else ("" if i % 5 == 0 else "reports are nice")
        rows.append({"id": f"r{i}", "score": score, "comment": text,
                     "answered": f"2025-{month:02d}-10", "plan": "free" if free else "pro",
                     "uses_x": str(int(i % 2 == 0))})
        if text:
            area, kind = (("reliability", "bug") if complains else ("reporting", "praise"))
            tags += [{"response_id": f"r{i}", "statement_id": f"r{i}:comment:0",
                      "question": "comment", "kind": "area", "label": area},
                     {"response_id": f"r{i}", "statement_id": f"r{i}:comment:0",
                      "question": "comment", "kind": "type", "label": kind}]
    survey, tag_file = tmp_path / "survey.csv", tmp_path / "tags.csv"
    pd.DataFrame(rows).to_csv(survey, index=False)
    pd.DataFrame(tags).to_csv(tag_file, index=False)
    return survey, tag_file


BASE = ["--id-col", "id", "--score-col", "score", "--text-col", "comment"]


def _run(args: list[str]) -> dict:
    runner = CliRunner()
    out = Path(args[args.index("--json") + 1])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def test_impact(tagged: tuple[Path, Path], tmp_path: Path) -> None:
    survey, tags = tagged
    data = _run(["impact", str(survey), *BASE, "--tags", str(tags),
                 "--json", str(tmp_path / "i.json")])
    shapley = {t["theme"]: t["contribution"] for t in data["shapley"]["themes"]}
    assert sum(shapley.values()) == pytest.approx(data["shapley"]["total"])
    regression = data["regression"]
    assert sum(t["contribution"] for t in regression["themes"]) == pytest.approx(
        regression["total"])
    assert shapley["reliability"] < min(0.0, shapley["reporting"])
    assert data["leave_one_out"]["reliability"] < 0


def test_priorities(tagged: tuple[Path, Path], tmp_path: Path) -> None:
    survey, tags = tagged
    roadmap = tmp_path / "roadmap.yaml"
    roadmap.write_text("planned: []\neffort: {reliability: M, reporting: S}\n")
    data = _run(["priorities", str(survey), *BASE, "--tags", str(tags), "--roadmap",
                 str(roadmap), "--json", str(tmp_path / "p.json")])
    first = data["priorities"][0]
    assert (first["theme"], first["quadrant"], first["urgency"]) == (
        "reliability", "quick win", "high")
    assert data["recovery_question"] is None  # no "improve" column in this survey
    roadmap.write_text("planned: [relyability]\n")
    result = CliRunner().invoke(app, ["priorities", str(survey), *BASE, "--tags", str(tags),
                                      "--roadmap", str(roadmap)])
    assert result.exit_code == 2
    assert "relyability" in result.output


def test_validate(tagged: tuple[Path, Path], tmp_path: Path) -> None:
    survey, tags = tagged
    data = _run(["validate", str(survey), *BASE, "--date-col", "answered", "--tags", str(tags),
                 "--launch", "2025-05-01", "--where", "uses_x=1", "--window-days", "120",
                 "--fix", "2025-05-01", "--theme", "reliability", "--among", "all",
                 "--min-n", "5",
                 "--json", str(tmp_path / "v.json")])
    launch, fix = data["launches"][0], data["fixes"][0]
    assert launch["where"] == {"uses_x": "1"}
    assert launch["n_before"] + launch["n_after"] == 100
    # Before the fix: all 25 free-plan comments are complaints; after it: none.
    assert fix["mentions_before"] == 25
    assert fix["mentions_after"] == 0
    assert fix["share_before"] == pytest.approx(25 / fix["comments_before"])
    assert fix["p_value"] < 0.05
    assert fix["change_ci_high"] < 0
    result = CliRunner().invoke(app, ["validate", str(survey), *BASE, "--fix", "2025-05-01"])
    assert result.exit_code == 2
    assert "--theme" in result.output


def test_trends_with_themes(tagged: tuple[Path, Path], tmp_path: Path) -> None:
    survey, tags = tagged
    data = _run(["trends", str(survey), *BASE, "--date-col", "answered", "--tags", str(tags),
                 "--themes", "--min-n", "5", "--json", str(tmp_path / "t.json")])
    changes = {p["period"]: p["change"] for p in data["periods"] if p["change"] is not None}
    parts = pd.DataFrame(data["themes"]["decomposition"])
    for period, total in parts.groupby("period")["total"].sum().items():
        assert total == pytest.approx(changes[period])
    trends = pd.DataFrame(data["themes"]["trends"])
    assert set(trends["theme"]) == {"reliability", "reporting"}


def test_segments_drivers(tagged: tuple[Path, Path], tmp_path: Path) -> None:
    survey, tags = tagged
    data = _run(["segments", str(survey), *BASE, "--segment", "plan=plan", "--drivers",
                 "--tags", str(tags), "--json", str(tmp_path / "s.json")])
    drivers = data["drivers"]["segments"]["plan=free"]
    gap = next(r["diff"] for r in data["segments"] if r["value"] == "free")
    assert sum(d["total"] for d in drivers) == pytest.approx(gap)
    assert min(drivers, key=lambda d: d["total"])["theme"] == "reliability"


def test_bad_tag_files_are_clear_errors(tagged: tuple[Path, Path], tmp_path: Path) -> None:
    survey, tags = tagged
    frame = pd.read_csv(tags)
    broken = tmp_path / "broken.csv"
    frame.drop(columns="kind").to_csv(broken, index=False)
    result = CliRunner().invoke(app, ["impact", str(survey), *BASE, "--tags", str(broken)])
    assert result.exit_code == 2
    assert "kind" in result.output
    assert str(broken) in result.output
    frame.assign(response_id="other").to_csv(broken, index=False)
    result = CliRunner().invoke(app, ["impact", str(survey), *BASE, "--tags", str(broken)])
    assert result.exit_code == 2
    assert "no tag rows" in result.output
    frame.assign(kind=["area", "topic"] * (len(frame) // 2)).to_csv(broken, index=False)
    result = CliRunner().invoke(app, ["impact", str(survey), *BASE, "--tags", str(broken)])
    assert result.exit_code == 2
    assert "row 3, column 'kind'" in result.output
