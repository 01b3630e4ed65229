"""Ray Data engine (local mode): the same tag file, byte for byte, as the single process."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from themer.cli import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def local_ray() -> object:
    try:
        import ray
    except ImportError:
        if os.environ.get("CI") == "true":
            raise  # .ci installs the [ray] extra with [test]: never skipped there
        pytest.skip("ray not installed (pip install 'themer[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(autouse=True)
def own_cache_and_taxonomy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test: its own embedding cache, no trained heads, the shipped taxonomy."""
    monkeypatch.setenv("THEMER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("THEMER_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("THEMER_TAXONOMY", str(ROOT / "taxonomy.yaml"))


def test_ray_engine_writes_the_single_process_file(local_ray: object, survey_csv: Path,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THEMER_CHUNK_SIZE", "5")  # several blocks, spread over the actors
    single, spread = tmp_path / "single.csv", tmp_path / "ray.csv"
    first = CliRunner().invoke(app, ["tag", str(survey_csv), "-o", str(single)])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(app, ["tag", str(survey_csv), "-o", str(spread), "--engine",
                                      "ray", "--ray-actors", "2"])
    assert second.exit_code == 0, second.output
    assert "ray: 2 actor(s)" in second.output
    assert spread.read_bytes() == single.read_bytes()
    assert len(single.read_text().splitlines()) > 12


def test_shards_resume_after_a_crash(survey_csv: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    monkeypatch.setenv("THEMER_CHUNK_SIZE", "5")  # 12 responses: shards of 5, 5 and 2
    folder, single = tmp_path / "shards", tmp_path / "single.csv"
    first = CliRunner().invoke(app, ["tag", str(survey_csv), "-o", str(folder), "--shards"])
    assert first.exit_code == 0, first.output
    parts = sorted(folder.glob("part-*.parquet"))
    assert len(parts) == 3
    before = {p.name: p.read_bytes() for p in parts}
    parts[1].unlink()  # as if the run died before the second chunk was written
    again = CliRunner().invoke(app, ["tag", str(survey_csv), "-o", str(folder), "--shards"])
    assert again.exit_code == 0, again.output
    assert "2 of 3 shard(s) already written; tagging the other 1" in again.output
    assert {p.name: p.read_bytes() for p in sorted(folder.glob("part-*.parquet"))} == before
    CliRunner().invoke(app, ["tag", str(survey_csv), "-o", str(single)])
    joined = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    expected = pd.read_csv(single, keep_default_na=False, dtype={"question": str})
    assert joined["statement_id"].tolist() == expected["statement_id"].tolist()
    assert joined["label"].tolist() == expected["label"].tolist()
    monkeypatch.setenv("THEMER_CHUNK_SIZE", "4")  # another run's shards are not mixed in
    other = CliRunner().invoke(app, ["tag", str(survey_csv), "-o", str(folder), "--shards"])
    assert other.exit_code == 2
    assert "holds shards of another run (different chunk_size)" in other.output


def _tags_of_version(url: str, version: int) -> list[tuple[str, str, int, str, str, float]]:
    from sqlalchemy import select

    from themer.store.models import ResponseRow, StatementRow, TagRow, TaxonomyVersion
    from themer.store.repository import Store

    store = Store.open(url)
    with store.sessions() as session:
        rows = session.execute(
            select(ResponseRow.source_response_id, StatementRow.question, StatementRow.start,
                   TagRow.kind, TagRow.label, TagRow.confidence)
            .join(StatementRow, StatementRow.response_id == ResponseRow.id)
            .join(TagRow, TagRow.statement_id == StatementRow.id)
            .join(TaxonomyVersion, TaxonomyVersion.id == TagRow.taxonomy_version_id)
            .where(TaxonomyVersion.version == version)).all()
    return sorted(tuple(row) for row in rows)  # type: ignore[misc]


def test_ray_retag_of_the_store_equals_the_local_retag(local_ray: object, survey_csv: Path,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8")
    start, end = text.index("  - id: billing"), text.index("  - id: mobile")
    edited = tmp_path / "taxonomy-v2.yaml"  # the billing area removed
    edited.write_text(text[:start].replace("version: 1", "version: 2") + text[end:],
                      encoding="utf-8")
    said = {}
    for name, extra in (("local", []), ("ray", ["--engine", "ray", "--ray-actors", "2",
                                                "--ray-range", "3"])):
        url = f"sqlite:///{tmp_path / name}.db"
        monkeypatch.setenv("THEMER_DATABASE_URL", url)
        imported = CliRunner().invoke(app, ["import", str(survey_csv)])
        assert imported.exit_code == 0, imported.output
        retagged = CliRunner().invoke(app, ["retag", "--taxonomy", str(edited), *extra])
        assert retagged.exit_code == 0, retagged.output
        # the counts line alone: Ray's executor thread may log into the captured stream later
        found = re.search(r"re-tagged \d+ responses: \d+ tags added, \d+ removed",
                          retagged.output)
        assert found is not None, retagged.output
        said[name] = found.group(0)
    assert "ray: 2 actor(s)" in retagged.output
    local = _tags_of_version(f"sqlite:///{tmp_path / 'local'}.db", 2)
    spread = _tags_of_version(f"sqlite:///{tmp_path / 'ray'}.db", 2)
    assert spread == local
    assert len(local) > 24
    assert not any(label == "billing" for *_, label, _ in local)
    assert said["ray"] == said["local"]  # the same counts of tags added and removed
    assert "removed" in said["ray"]


def test_ray_retag_needs_to_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THEMER_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    result = CliRunner().invoke(app, ["retag", "--engine", "ray", "--no-wait"])
    assert result.exit_code == 2
    assert "THM181" in result.output
