"""The HTML report in a real headless Chromium: loads without console errors, the charts render,
nothing is fetched from the network; a screenshot is kept as a CI artefact."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _survey(path: Path) -> None:
    comments = ["The service crashed twice this week.", "Reports are great for our board.",
                "Search never finds the right invoice.", "Billing is confusing and too pricey.",
                "The mobile app is slow to load.", "Love the dashboards, so easy."]
    pd.DataFrame({
        "response_id": [f"r{i}" for i in range(90)],
        "score": [(i * 7) % 11 for i in range(90)],
        "date": [f"2025-0{1 + i % 3}-1{i % 9}" for i in range(90)],
        "comment": [comments[i % 6] for i in range(90)],
        "plan": [("free", "pro", "team")[i % 3] for i in range(90)],
        "uses_dashboards": [str(int(i % 4 != 0)) for i in range(90)],
        "uses_mobile": [str(int(i % 5 == 0)) for i in range(90)]}).to_csv(path, index=False)


def test_report_renders_in_headless_chromium(tmp_path: Path, chromium: str) -> None:
    survey, report = tmp_path / "survey.csv", tmp_path / "report.html"
    _survey(survey)
    discovery = tmp_path / "discover.json"
    discovery.write_text(json.dumps({"candidates": [{
        "id": "cand-1", "label": "offline / planes", "status": "new", "size": 12, "share": 0.1,
        "nps": -20.0, "ci_low": -50.0, "ci_high": 10.0, "hint": "",
        "quotes": ["We need offline mode on planes."]}]}), encoding="utf-8")
    roadmap = tmp_path / "roadmap.yaml"
    roadmap.write_text("planned: [search]\neffort: {billing: S, reliability: L, search: M, "
                       "mobile: XL, reporting: M}\n", encoding="utf-8")
    chart_dir = tmp_path / "charts"
    # the README's first command, on a small survey with segments, features and a roadmap
    result = CliRunner().invoke(app, ["report", str(survey), "-o", str(report), "--min-n", "5",
                                      "--discovery", str(discovery), "--roadmap", str(roadmap),
                                      "--charts", str(chart_dir), "--json",
                                      str(tmp_path / "themes.json")])
    assert result.exit_code == 0, result.output
    html = report.read_text(encoding="utf-8")
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # works offline
    assert "offline / planes" in html
    dom = _open(chromium, report, tmp_path)
    charts = _drawn_charts(dom)
    assert set(charts) == {"impact-chart", "interval-chart", "trend-chart", "segment-heatmap-1",
                           "adoption-quadrants", "adoption-heatmap"}
    assert {p.stem for p in chart_dir.glob("*.svg")} == set(charts)  # slide exports
    assert 'id="priorities"' in dom
    assert "quick win" in dom
    assert 'id="filters"' in dom
    assert "2025-01-10 to 2025-03-18" in dom
    # a standalone chart renders in Chromium on its own (what a slide tool imports)
    svg = _open(chromium, chart_dir / "adoption-quadrants.svg", tmp_path)
    assert "<circle" in svg
    assert "dashboards" in svg


def _open(chromium: str, page: Path, tmp_path: Path, screenshot: str | None = None) -> str:
    """The page's DOM after loading in headless Chromium; fails on any console message,
    uncaught error or failed load. With ``screenshot``, also saves artefacts/<name>."""
    common = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
              "--virtual-time-budget=3000"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True)
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line
               or "Uncaught" in line or "Failed to load resource" in line]
    assert console == []
    if screenshot is not None:
        artefacts = Path(os.environ.get("THEMER_ARTIFACT_DIR") or tmp_path)
        artefacts.mkdir(parents=True, exist_ok=True)
        shot = artefacts / screenshot
        subprocess.run([*common, "--hide-scrollbars", "--window-size=1200,6000",
                        f"--screenshot={shot}", page.as_uri()], capture_output=True,
                       timeout=120, check=True)
        assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    return dom.stdout


def _drawn_charts(dom: str) -> list[str]:
    """Ids of the page's charts; each must have drawn marks."""
    for chart in re.findall(r'<svg class="chart".*?</svg>', dom, flags=re.S):
        assert re.search(r"<(?:rect|circle|polyline)\b", chart)  # something is drawn
    return re.findall(r'<svg class="chart" id="([a-z0-9-]+)"', dom)


def test_the_readmes_first_command_makes_the_report(tmp_path: Path, chromium: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """README command 1, run as written (after the install) on the shipped example."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```bash\n(.*?)\n```", readme, flags=re.S)
    assert first is not None
    command = first.group(1).split(".venv/bin/themer ", 1)[1]
    for name in ("examples", "taxonomy.yaml"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, shlex.split(command))
    assert result.exit_code == 0, result.output
    dom = _open(chromium, tmp_path / "report.html", tmp_path, screenshot="report.png")
    assert set(_drawn_charts(dom)) >= {"impact-chart", "interval-chart", "trend-chart",
                                        "segment-heatmap-1", "adoption-quadrants",
                                        "adoption-heatmap"}
    assert 'id="priorities"' in dom
    assert "examples/nps_survey.csv" in dom
    assert json.loads((tmp_path / "themes.json").read_text(encoding="utf-8"))["overall"]["n"]
    assert (tmp_path / "charts" / "impact-chart.svg").is_file()
