"""``themer label`` on SQLite and PostgreSQL: a spreadsheet round-trip, a training round, and
bad sheets refused with the file, row and column (exit 2, nothing stored)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from labelling_store import ROOT, analyst, build_store
from typer.testing import CliRunner

from themer.cli import app
from themer.nlp.embed import SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter


@pytest.fixture
def env(store_url: str, tmp_path: Path, encoder: SentenceTransformerEncoder,
        splitter: StatementSplitter) -> dict[str, str]:
    build_store(store_url, tmp_path / "cache", tmp_path / "models", encoder, splitter)
    return {"THEMER_DATABASE_URL": store_url, "THEMER_CACHE_DIR": str(tmp_path / "cache"),
            "THEMER_MODELS_DIR": str(tmp_path / "models"),
            "THEMER_TAXONOMY": str(ROOT / "taxonomy.yaml")}


def _run(env: dict[str, str], *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(app, ["--quiet", "label", *args], env=env)
    assert result.exit_code == code, result.output
    return result


def _fill(path: Path, **first: str) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        label = analyst(row["statement"])
        row.update(areas="; ".join(label["areas"]) or "none", type=label["type"])
    rows[0].update(first)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_sheet_round_trip_and_a_training_round(env: dict[str, str], tmp_path: Path) -> None:
    sheet = tmp_path / "batch.csv"
    _run(env, "export", str(sheet), "--k", "20")
    _fill(sheet, areas="search; teleport")
    refused = _run(env, "import", str(sheet), code=2)
    assert f"{sheet}, row 2, column 'areas': 'teleport' is not an area" in refused.output
    assert "THM188" in refused.output
    assert "Traceback" not in refused.output
    shown = json.loads(_run(env, "status", "--json", "-").stdout)
    assert shown["labels"] == 0  # the bad row stopped the whole sheet
    _fill(sheet)
    stored = _run(env, "import", str(sheet), "--by", "ann", "--json", "-")
    assert json.loads(stored.stdout)["saved"] == 20
    trained = json.loads(_run(env, "train", "--json", "-").stdout)
    assert trained["labels"] == 20
    assert trained["changed_statements"] > 0
    assert trained["embedded"] == 0
    shown = json.loads(_run(env, "status", "--json", "-").stdout)
    assert shown["labellers"] == 1
    assert shown["heads"]["area"]["accuracy"] == trained["heads"]["area"]["accuracy"]
    printed = _run(env, "status").output
    assert "area head: labelled-area-" in printed
    assert "macro-F1" in printed
