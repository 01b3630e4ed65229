"""From an empty folder outside the repository, with no flag but the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from themer.cli import app

EXPORT = ("id,rating,feedback,submitted_at,tier\n"
          "c1,2,The export to PDF keeps failing on large projects.,2026-07-02,free\n"
          "c2,9,Love how quick the new search is!,2026-07-09,pro\n"
          "c3,4,Billing charged us twice this month.,2026-08-01,free\n"
          "c4,10,Support answered within minutes.,2026-08-15,pro\n"
          "c5,6,Onboarding took forever.,2026-09-03,team\n")


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name in ("THEMER_TAXONOMY", "THEMER_DATABASE_URL", "THEMER_STATIC_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("THEMER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("THEMER_MODELS_DIR", str(tmp_path / "no-models"))
    (folder / "export.csv").write_text(EXPORT, encoding="utf-8")
    return folder


def test_dry_run_import_needs_nothing_but_the_file(empty: Path) -> None:
    result = CliRunner().invoke(app, ["import", "export.csv", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "5 of 5 rows would be stored" in result.output
    assert not list(empty.glob("*.db"))  # a dry run writes nothing


def test_the_starter_taxonomy_is_used_and_said(empty: Path) -> None:
    result = CliRunner().invoke(app, ["themes", "export.csv", "--json", "-"])
    assert result.exit_code == 0, result.output
    assert "starter taxonomy" in result.stderr
    payload = json.loads(result.stdout)
    assert payload["taxonomy"]["source"] == "themer's starter taxonomy"
    assert payload["overall"]["n"] == 5


def test_init_writes_files_to_start_from(empty: Path) -> None:
    first = CliRunner().invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    assert {p.name for p in empty.glob("*.yaml")} == {"taxonomy.yaml", "mapping.yaml",
                                                       "roadmap.yaml"}
    again = CliRunner().invoke(app, ["init"])
    assert again.exit_code == 2  # never overwrites without --force
    assert "THM190" in again.output
    used = CliRunner().invoke(app, ["themes", "export.csv", "--json", "-"])
    assert used.exit_code == 0, used.output
    assert json.loads(used.stdout)["taxonomy"]["source"] == "taxonomy.yaml"
    assert "starter taxonomy" not in used.stderr
