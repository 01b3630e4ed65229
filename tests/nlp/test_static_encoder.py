"""The fast encoder modes: a static encoder distilled offline, its cache kept apart from
MiniLM's, and the cascade that sends unsure statements to MiniLM."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.cli import app
from themer.nlp import static_encoder
from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import (
    CachedEncoder,
    SentenceTransformerEncoder,
    folder_fingerprint,
    text_key,
)
from themer.nlp.split import StatementSplitter
from themer.nlp.static_encoder import CARD, StaticEncoder, ensure_static_model, is_complete
from themer.nlp.tagger import Tagger
from themer.taxonomy import TaxonomyInfo

COMMENTS = ["Love the dashboards, but exporting reports to Excel is painfully slow.",
            "The app crashes every time I upload a file. Support never answers.",
            "Please add a Salesforce integration.", "Too expensive for a small team.",
            "Sync with Jira is broken again and we lost data!", "ok",
            "Search never finds anything. The mobile app is useless on Android.",
            "I expected reporting to be included in our plan, it is an add-on."]
WORDS = sorted({w.strip(".,!?").lower() for text in COMMENTS for w in text.split()}
               | {"export", "pdf", "slow", "price", "billing", "crash", "search", "login"})


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the test's words plus the special tokens keep it fast: the full distillation runs each
    # of MiniLM's 29.5k tokens through it (about two minutes on 2 busy cores); the code path
    # is the same. Built as the default cache folder is on first use (ensure_static_model).
    folder = tmp_path_factory.mktemp("static") / "static-test"
    keep = "|".join([r"\[(?:PAD|UNK|CLS|SEP|MASK)\]", *map(re.escape, WORDS)])
    notes: list[str] = []
    assert ensure_static_model(folder, pca_dims=32, drop_tokens=rf"^(?!(?:{keep})$)",
                               progress=notes.append) == folder
    assert notes[0].startswith("building the static encoder")
    assert not list(folder.parent.glob(".static-test.tmp-*"))  # the build was renamed in
    card = json.loads((folder / CARD).read_text())
    assert card["dims"] == 32
    assert 32 < card["vocabulary_size"] < 200
    return folder


def test_distilled_encoder_is_normalised_and_independent_of_batch(static_dir: Path) -> None:
    encoder = StaticEncoder(static_dir)
    assert encoder.model_id.startswith("static:static-test:")
    assert json.loads((static_dir / CARD).read_text())["source_model"]
    texts = ["The export to pdf is slow.", "Love the search", "billing crash", ""]
    vectors = encoder.encode(texts)
    assert vectors.shape == (4, 32)
    assert vectors.dtype == np.float32
    norms = np.linalg.norm(vectors[:3], axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)
    assert np.array_equal(encoder.encode(texts[::-1])[::-1], vectors)  # order
    assert np.array_equal(encoder.encode(texts[1:2])[0], vectors[1])  # batch


def test_missing_static_model_is_an_error_not_a_build(tmp_path: Path) -> None:
    from themer.errors import ModelError

    with pytest.raises(ModelError, match="no static encoder") as caught:
        StaticEncoder(tmp_path / "named-by-the-user")
    assert caught.value.code == "THM322"
    assert not (tmp_path / "named-by-the-user").exists()  # nothing built where not asked


def test_cache_keeps_encoders_apart(static_dir: Path, encoder: SentenceTransformerEncoder,
                                    tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache")
    static = CachedEncoder(StaticEncoder(static_dir), cache)
    minilm = CachedEncoder(encoder, cache)
    text = "The export to pdf is slow."
    assert text_key(static.model_id, text) != text_key(minilm.model_id, text)
    a, b = static.encode([text]), minilm.encode([text])
    assert a.shape[1] == 32
    assert b.shape[1] == 384
    assert np.array_equal(static.encode([text]), a)  # served from the cache, its own rows
    assert np.array_equal(minilm.encode([text]), b)
    assert static.hits == minilm.hits == 1


def _statements() -> pd.DataFrame:
    texts = COMMENTS
    return pd.DataFrame({"response_id": [f"r{i}" for i in range(len(texts))],
                         "statement_id": [f"r{i}#0.0" for i in range(len(texts))],
                         "question": "comment", "start": 0, "end": [len(t) for t in texts],
                         "statement": texts})


def test_cascade_routes_unsure_statements_to_minilm(
        static_dir: Path, encoder: SentenceTransformerEncoder, taxonomy: TaxonomyInfo,
        splitter: StatementSplitter) -> None:
    statements = _statements()
    static = Tagger.build(taxonomy, CachedEncoder(StaticEncoder(static_dir), None), splitter)
    minilm = Tagger.build(taxonomy, CachedEncoder(encoder, None), splitter)
    only_static = static.tag_statements(statements)
    only_minilm = minilm.tag_statements(statements)
    static.fallback = minilm
    static.band, static.routed, static.seen = 1.0, 0, 0  # every statement unsure: all to MiniLM
    pd.testing.assert_frame_equal(static.tag_statements(statements), only_minilm)
    assert static.routed == static.seen == len(statements)
    static.band, static.routed, static.seen = 1e-9, 0, 0  # none is: all stay static
    pd.testing.assert_frame_equal(static.tag_statements(statements), only_static)
    assert static.routed == 0
    static.band, static.routed, static.seen = 0.2, 0, 0
    mixed = static.tag_statements(statements)
    vectors = static.encoder.encode(statements["statement"].tolist())
    unsure = static.unsure(static.tag_vectors(vectors, statements["statement"].tolist()))
    assert static.routed == int(unsure.sum())
    sent = set(statements["statement_id"][unsure])
    for source, ids in ((only_minilm, sent), (only_static, set(statements["statement_id"]) - sent)):
        expected = source[source["statement_id"].isin(ids)].reset_index(drop=True)
        got = mixed[mixed["statement_id"].isin(ids)].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected)
    # decided per statement: the same rows whatever the order they come in
    backwards = static.tag_statements(statements.iloc[::-1].reset_index(drop=True))
    pd.testing.assert_frame_equal(
        backwards.sort_values(["statement_id", "kind", "label"]).reset_index(drop=True),
        mixed.sort_values(["statement_id", "kind", "label"]).reset_index(drop=True))


def test_encoder_is_chosen_by_configuration(static_dir: Path, survey_csv: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THEMER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("THEMER_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("THEMER_STATIC_MODEL", str(static_dir))
    for mode in ("static", "cascade"):
        monkeypatch.setenv("THEMER_ENCODER", mode)
        out = tmp_path / f"{mode}.csv"
        result = CliRunner().invoke(app, ["tag", str(survey_csv), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert f"encoder {mode}" in result.output
        assert len(pd.read_csv(out))
    monkeypatch.setenv("THEMER_STATIC_MODEL", str(tmp_path / "nothing"))
    missing = CliRunner().invoke(app, ["tag", str(survey_csv), "-o", str(tmp_path / "x.csv")])
    assert missing.exit_code == 2
    assert "themer models distill" in missing.output


def test_the_api_serves_the_configured_cascade(static_dir: Path, tmp_path: Path) -> None:
    import time

    from fastapi.testclient import TestClient

    from api.app import create_app
    from themer.config import Settings
    from themer.store.repository import Store

    url = f"sqlite:///{tmp_path / 'store.db'}"
    key = Store.open(url).create_key("read")
    settings = Settings(database_url=url, cache_dir=tmp_path / "cache", encoder="cascade",
                        static_model=static_dir, cascade_band=0.5,
                        taxonomy=Path(__file__).resolve().parents[2] / "taxonomy.yaml",
                        models_dir=tmp_path / "no-models")
    with TestClient(create_app(settings)) as client:
        for _ in range(600):  # the model loads in the background; /readyz says when
            if client.get("/readyz").status_code == 200:
                break
            time.sleep(0.1)
        engine = client.app.state.engine  # type: ignore[attr-defined]
        tagger = engine.tagger()
        assert tagger.encoder.model_id.startswith("static:")
        assert tagger.fallback is not None
        assert tagger.fallback.encoder.model_id.startswith("st:")
        assert tagger.band == 0.5
        answer = client.post("/v1/classify", headers={"X-API-Key": key}, json={
            "comments": [{"id": "c1", "text": "Search never finds anything."}]})
        assert answer.status_code == 200, answer.text
        assert answer.json()["results"][0]["statements"][0]["statement"].startswith("Search")
        assert tagger.seen == 1  # the request went through the cascade tagger


# --- ensure_static_model with a stand-in for distill (the build itself is the fixture's) ---

def _source(tmp_path: Path) -> Path:
    source = tmp_path / "source-model"
    source.mkdir(exist_ok=True)
    (source / "config.json").write_text('{"model": "stand-in"}', encoding="utf-8")
    return source


class _FakeDistill:
    """Writes a complete-looking model folder (or half of one, then fails)."""

    def __init__(self, *, fail: bool = False, pause: float = 0.0,
                 before_return: Callable[[], None] | None = None) -> None:
        self.calls = 0
        self.fail, self.pause, self.before_return = fail, pause, before_return

    def __call__(self, output: Path, *, source: Path, **_: object) -> dict[str, object]:
        self.calls += 1
        output.mkdir(parents=True)
        (output / "config.json").write_text("{}", encoding="utf-8")
        time.sleep(self.pause)
        if self.fail:
            raise RuntimeError("killed mid-build")
        _complete_model(output, source)
        if self.before_return is not None:
            self.before_return()
        return {"dims": 8, "vocabulary_size": 5}


def _complete_model(folder: Path, source: Path, fingerprint: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        (folder / name).write_text("{}", encoding="utf-8")
    card = {"source_model": source.name,
            "source_fingerprint": fingerprint or folder_fingerprint(source)}
    (folder / CARD).write_text(json.dumps(card), encoding="utf-8")


def test_ensure_builds_once_then_reuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeDistill()
    monkeypatch.setattr(static_encoder, "distill", fake)
    folder, source = tmp_path / "cache" / "static-minilm", _source(tmp_path)
    stale = tmp_path / "cache" / ".static-minilm.tmp-dead1234"  # a crashed build's leftover
    stale.mkdir(parents=True)
    notes: list[str] = []
    assert ensure_static_model(folder, source=source, progress=notes.append) == folder
    assert is_complete(folder)
    assert fake.calls == 1
    assert not stale.exists()
    assert [n.split(" ")[0] for n in notes] == ["building", "static"]
    assert ensure_static_model(folder, source=source, progress=notes.append) == folder
    assert fake.calls == 1  # reused
    assert len(notes) == 2  # and silently


def test_a_failed_build_leaves_no_half_model(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(static_encoder, "distill", _FakeDistill(fail=True))
    folder, source = tmp_path / "static-minilm", _source(tmp_path)
    with pytest.raises(RuntimeError, match="killed"):
        ensure_static_model(folder, source=source)
    assert not folder.exists()
    assert not list(tmp_path.glob(".static-minilm.tmp-*"))
    monkeypatch.setattr(static_encoder, "distill", _FakeDistill())
    assert is_complete(ensure_static_model(folder, source=source))  # the next use builds it


def test_a_partial_folder_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeDistill()
    monkeypatch.setattr(static_encoder, "distill", fake)
    folder, source = tmp_path / "static-minilm", _source(tmp_path)
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")  # an interrupted distill
    assert is_complete(ensure_static_model(folder, source=source))
    assert fake.calls == 1


def test_racing_builds_distil_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeDistill(pause=0.3)
    monkeypatch.setattr(static_encoder, "distill", fake)
    folder, source = tmp_path / "static-minilm", _source(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda _: ensure_static_model(folder, source=source), range(4)))
    assert done == [folder] * 4
    assert fake.calls == 1  # the others waited on the lock and reused it
    assert is_complete(folder)


def test_losing_the_rename_race_keeps_the_winner(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a lock (Windows) both build; the first rename wins, the other copy goes."""
    folder, source = tmp_path / "static-minilm", _source(tmp_path)

    @contextmanager
    def no_lock(_folder: Path) -> Iterator[bool]:
        yield False

    monkeypatch.setattr(static_encoder, "_build_lock", no_lock)
    monkeypatch.setattr(static_encoder, "distill", _FakeDistill(
        before_return=lambda: _complete_model(folder, source)))  # the other process's rename
    notes: list[str] = []
    assert ensure_static_model(folder, source=source, progress=notes.append) == folder
    assert is_complete(folder)
    assert "another process" in notes[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source-model", "static-minilm"]


def test_a_model_of_another_source_is_an_error(tmp_path: Path) -> None:
    from themer.errors import ModelError

    folder, source = tmp_path / "static-minilm", _source(tmp_path)
    _complete_model(folder, source, fingerprint="000000000000")
    with pytest.raises(ModelError, match="distilled from another model") as caught:
        ensure_static_model(folder, source=source)
    assert caught.value.code == "THM335"
