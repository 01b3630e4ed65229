"""The store commands: import, retag, keys, and cancelling a queued job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from themer.cli import app
from themer.store.jobs import cancel_job, create_retag_job, get_job
from themer.store.repository import Filters, Store
from themer.taxonomy import parse_taxonomy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("THEMER_DATABASE_URL", store_url)
    monkeypatch.setenv("THEMER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("THEMER_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("THEMER_TAXONOMY", str(ROOT / "taxonomy.yaml"))
    return store_url


def test_import_retag_and_keys(env: str, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("response_id,score,comment\nr1,2,Search never finds anything.\n"
                      "r2,10,Love the invoices and the pricing.\nr3,8,\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["import", str(export), "--source", "csv"])
    assert first.exit_code == 0, first.output
    assert "imported 3 responses" in first.output
    again = runner.invoke(app, ["import", str(export), "--source", "csv"])
    assert "imported 0 responses" in again.output  # idempotent on (source, id)
    store = Store.open(env)
    assert store.count_responses() == 3
    text = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8")
    start, end = text.index("  - id: billing"), text.index("  - id: mobile")
    edited = tmp_path / "v2.yaml"
    edited.write_text(text[:start].replace("version: 1", "version: 2") + text[end:],
                      encoding="utf-8")
    retag = runner.invoke(app, ["retag", "--taxonomy", str(edited)])
    assert retag.exit_code == 0, retag.output
    assert "re-tagged 3 responses" in retag.output
    active = store.active_taxonomy()
    assert active is not None
    assert active.version == 2
    same = runner.invoke(app, ["retag", "--taxonomy", str(edited)])
    assert same.exit_code == 2
    assert "already the active taxonomy" in same.output
    key = runner.invoke(app, ["keys", "create", "--scope", "read", "--name", "bi"])
    assert key.exit_code == 0
    secret = key.stdout.strip().splitlines()[-1]
    found = store.find_key(secret)
    assert found is not None
    assert found.scope == "read"
    assert runner.invoke(app, ["keys", "create", "--scope", "root"]).exit_code == 2


def test_cancel_a_queued_job(store_url: str) -> None:
    store = Store.open(store_url)
    text = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8")
    version = store.activate_taxonomy(parse_taxonomy(text), text)
    job = create_retag_job(store, version.id, None)
    cancelled = cancel_job(store, job.id)
    assert cancelled is not None
    assert cancelled.state == "cancelled"
    assert cancelled.finished_at is not None
    assert cancel_job(store, job.id).state == "cancelled"  # type: ignore[union-attr]
    assert get_job(store, "missing") is None


def test_promote_with_retag_makes_the_new_area_active(env: str, tmp_path: Path) -> None:
    import json

    export = tmp_path / "export.csv"
    export.write_text("response_id,score,comment\nr1,3,We need to work offline on planes.\n"
                      "r2,9,Love the invoices.\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(export), "--source", "csv"]).exit_code == 0
    discovery = tmp_path / "discover.json"
    discovery.write_text(json.dumps({"candidates": [{
        "id": "cand-x", "label": "offline / planes", "keywords": ["offline", "planes"],
        "quotes": ["We need to work offline on planes.", "Offline mode for flights, please.",
                   "Nothing works without wifi on a plane."]}]}), encoding="utf-8")
    output = tmp_path / "taxonomy-v2.yaml"
    result = runner.invoke(app, ["promote", str(discovery), "cand-x", "--id", "offline_mode",
                                 "--decisions", str(tmp_path / "d.jsonl"), "-o", str(output),
                                 "--retag"])
    assert result.exit_code == 0, result.output
    assert "re-tagged 2 responses" in result.output
    store = Store.open(env)
    active = store.active_taxonomy()
    assert active is not None
    assert "offline_mode" in active.yaml
    responses, tags = store.analysis_frames(Filters(), active.id)
    offline = tags[(tags["kind"] == "area") & (tags["label"] == "offline_mode")]
    assert set(offline["response_id"]) == set(responses.loc[responses.index[:1], "response_id"])


def test_doctor_checks_everything_offline(env: str, monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    Store.open(env)  # the store exists and answers
    healthy = CliRunner().invoke(app, ["--quiet", "doctor", "--json", "-"])
    assert healthy.exit_code == 0, healthy.output
    checks = {c["check"]: c for c in json.loads(healthy.stdout)["checks"]}  # not the table:
    # a plain terminal wraps it anywhere
    assert set(checks) == {"python packages", "embedding model", "spaCy pipeline", "taxonomy",
                           "store"}
    assert all(c["ok"] for c in checks.values()), checks
    assert "384 dims" in checks["embedding model"]["detail"]
    assert "Loading weights" not in healthy.output  # no third-party progress bar leaks
    monkeypatch.setenv("THEMER_TAXONOMY", str(tmp_path / "missing.yaml"))
    broken = CliRunner().invoke(app, ["--quiet", "doctor", "--json", "-"])
    assert broken.exit_code == 1
    taxonomy = {c["check"]: c for c in json.loads(broken.stdout)["checks"]}["taxonomy"]
    assert not taxonomy["ok"]
    assert "THM204" in taxonomy["detail"]  # the taxonomy's own error code
