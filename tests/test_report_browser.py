"""The HTML report in a real headless Chromium: loads without console errors, the charts render,
nothing is fetched from the network; a screenshot is kept as a CI artefact."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.cli import app


def _chromium() -> str:
    found = os.environ.get("THEMER_CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI must run the browser test: no chromium (see .ci/chromium.sh)")
    pytest.skip("no chromium (local run; never skipped in CI)")


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


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    chromium = _chromium()
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
    artefacts = Path(os.environ.get("THEMER_ARTIFACT_DIR") or tmp_path)
    artefacts.mkdir(parents=True, exist_ok=True)
    screenshot = artefacts / "report.png"
    common = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
              "--virtual-time-budget=3000"]
    dom = subprocess.run([*common, "--dump-dom", report.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True)
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line
               or "Uncaught" in line or "Failed to load resource" in line]
    assert console == []
    charts = re.findall(r'<svg class="chart" id="([a-z0-9-]+)".*?</svg>', dom.stdout,
                        flags=re.S)
    assert set(charts) == {"impact-chart", "interval-chart", "trend-chart", "segment-heatmap-1",
                           "adoption-quadrants", "adoption-heatmap"}
    assert {p.stem for p in chart_dir.glob("*.svg")} == set(charts)  # slide exports
    assert 'id="priorities"' in dom.stdout
    assert "quick win" in dom.stdout
    assert 'id="filters"' in dom.stdout
    assert "2025-01-10 to 2025-03-18" in dom.stdout
    for chart in re.findall(r'<svg class="chart".*?</svg>', dom.stdout, flags=re.S):
        assert re.search(r"<(?:rect|circle|polyline)\b", chart)  # something is drawn
    # a standalone chart renders in Chromium on its own (what a slide tool imports)
    svg = subprocess.run([*common, "--dump-dom", (chart_dir / "adoption-quadrants.svg"
                                                  ).as_uri()],
                         capture_output=True, text=True, timeout=120, check=True)
    assert "<circle" in svg.stdout
    assert "dashboards" in svg.stdout
    subprocess.run([*common, "--hide-scrollbars", "--window-size=1200,5000",
                    f"--screenshot={screenshot}", report.as_uri()], capture_output=True,
                   timeout=120, check=True)
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
