"""`themer themes` end to end: corrected numbers with a trained head, raw ones with --raw."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.cli import app

runner = CliRunner()
ROWS = [("please add an export to PDF", "feature_request"),
        ("would love a dark mode", "feature_request"),
        ("we need SSO support", "feature_request"),
        ("it would be great to have webhooks", "feature_request"),
        ("add a Gantt chart view please", "feature_request"),
        ("the app crashes when I save", "bug"), ("export fails with an error", "bug"),
        ("login is broken since Monday", "bug"), ("numbers in reports are wrong", "bug"),
        ("sync stopped working", "bug"), ("great product", "praise"),
        ("love it", "praise"), ("support is amazing", "praise"),
        ("best tool we use", "praise"), ("works perfectly", "praise")] * 2


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("THEMER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("THEMER_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("THEMER_TAXONOMY", str(Path(__file__).resolve().parents[2] /
                                              "taxonomy.yaml"))
    return tmp_path


def test_themes_corrects_with_the_heads_error_rates(env: Path, survey_csv: Path) -> None:
    labelled = env / "labelled.csv"
    pd.DataFrame(ROWS, columns=["text", "label"]).to_csv(labelled, index=False)
    head = env / "models" / "types-demo"
    result = runner.invoke(app, ["train", str(labelled), "--text-col", "text", "--label-col",
                                 "label", "--label-kind", "types", "-o", str(head)])
    assert result.exit_code == 0, result.output
    rates = json.loads((head / "head.json").read_text())["error_rates"]
    assert set(rates) == {"feature_request", "bug", "praise"}
    out = env / "themes.json"
    args = ["themes", str(survey_csv), "--survey-type", "relationship", "--min-n", "2"]
    result = runner.invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "type rows: corrected for tagging error (frequency: adjusted count" in result.output
    assert "area rows: raw hard-tag counts (zero-shot" in result.output
    data = json.loads(out.read_text())
    assert data["quantification"]["type"]["estimate"] == "adjusted"
    assert data["quantification"]["area"]["estimate"] == "raw"
    types = [t for t in data["themes"] if t["kind"] == "type" and t["theme"] in rates]
    assert types
    for row in types:
        assert row["estimate"] in ("adjusted", "raw")  # raw only if the head is too weak
        assert row["ci_low"] <= row["nps"] <= row["ci_high"]
        assert row["freq_ci_low"] <= row["frequency"] <= row["freq_ci_high"]
    assert any(t["estimate"] == "adjusted" for t in types)
    for row in data["themes"]:
        if row["kind"] != "type":
            assert row["estimate"] == "raw"
            assert (row["frequency"], row["nps"]) == (row["frequency_raw"], row["nps_raw"])
    result = runner.invoke(app, [*args, "--raw", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert {t["estimate"] for t in data["themes"]} == {"raw"}
    assert data["quantification"]["type"]["note"] == "raw counts asked for"
