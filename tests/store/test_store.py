"""The store on SQLite and on a real PostgreSQL server (the same tests, both backends)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from themer.analytics.themes import theme_table
from themer.errors import StoreError
from themer.store.db import connect
from themer.store.models import ResponseRow, TagRow
from themer.store.repository import MAX_COMMENT_CHARS, Filters, ResponseIn, Store, scope_allows
from themer.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]


def _rows(store: Store) -> int:
    with store.sessions() as session:
        return int(session.scalar(select(func.count(ResponseRow.id))) or 0)


def test_migrations_are_idempotent(store_url: str) -> None:
    Store.open(store_url)
    store = Store.open(store_url)  # second upgrade: nothing to do, no error
    assert _rows(store) == 0


def test_migrations_build_exactly_the_models(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from themer.store.models import Base

    store = Store.open(store_url)
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []  # a model change without its migration fails here


def test_ingest_is_idempotent_on_source_and_id(store_url: str) -> None:
    store = Store.open(store_url)
    first = store.ingest([ResponseIn(id="r1", score=9, comments={"reason": "great"}),
                          ResponseIn(id="r2", score=3, source="delighted")])
    assert [r.created for r in first] == [True, True]
    again = store.ingest([ResponseIn(id="r1", score=0), ResponseIn(id="r1", score=0),
                          ResponseIn(id="r3", score=7)])
    assert [(r.source_response_id, r.created) for r in again] == [("r1", False), ("r3", True)]
    assert again[0].id == first[0].id
    assert _rows(store) == 3
    with store.sessions() as session:  # the first write wins; a retry changes nothing
        assert session.scalar(select(ResponseRow.score)
                              .where(ResponseRow.source_response_id == "r1")) == 9
    # the same id from another source is another response
    assert store.ingest([ResponseIn(id="r1", score=5, source="typeform")])[0].created


@pytest.mark.parametrize(("payload", "message"), [
    ({"id": "x", "score": 11}, "not on the nps scale"),
    ({"id": "x", "score": 0, "scale": "stars5"}, "not on the stars5 scale"),
    ({"id": "x", "score": 5, "comments": {"reason": "a" * (MAX_COMMENT_CHARS + 1)}},
     "the limit is 10000"),
    ({"id": "", "score": 5}, "at least 1 character"),
    ({"id": "x", "score": 5, "colour": "red"}, "Extra inputs"),
])
def test_response_validation(payload: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ResponseIn.model_validate(payload)


def test_api_keys_are_stored_hashed(store_url: str) -> None:
    store = Store.open(store_url)
    key = store.create_key("write", "zendesk")
    found = store.find_key(key)
    assert found is not None
    assert found.scope == "write"
    assert key not in found.key_hash
    assert len(found.key_hash) == 64
    assert store.find_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.find_key("nonsense") is None
    assert scope_allows("admin", "write")
    assert not scope_allows("read", "write")


def test_taxonomy_versions_and_diff(store_url: str, tmp_path: Path) -> None:
    store = Store.open(store_url)
    text = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8")
    first = store.activate_taxonomy(load_taxonomy(ROOT / "taxonomy.yaml"), text)
    assert store.activate_taxonomy(load_taxonomy(ROOT / "taxonomy.yaml"), text).id == first.id
    edited = tmp_path / "taxonomy.yaml"
    edited.write_text(text.replace("version: 1", "version: 2"), encoding="utf-8")
    second = store.activate_taxonomy(load_taxonomy(edited), edited.read_text(encoding="utf-8"))
    versions = store.taxonomy_versions()
    assert [(v.version, v.active) for v in versions] == [(1, False), (2, True)]
    assert second.diff is not None
    assert "-version: 1" in second.diff
    assert "+version: 2" in second.diff


def _fake_tags(ids: dict[str, int]) -> pd.DataFrame:
    """Tagger-shaped rows: r1 names search (bug), r2 search + billing, r3 nothing assigned."""
    plan = [("r1", 0, "search is broken", [("area", "search"), ("type", "bug")]),
            ("r2", 0, "search is slow", [("area", "search"), ("type", "ux_friction")]),
            ("r2", 16, "too expensive", [("area", "billing"), ("type", "other")]),
            ("r3", 0, "ok", [("area", "unassigned"), ("type", "other")])]
    rows = []
    for rid, start, text, labels in plan:
        for kind, label in labels:
            rows.append({"response_id": str(ids[rid]), "statement_id": f"{rid}#{start}",
                         "question": "reason", "start": start, "end": start + len(text),
                         "statement": text, "kind": kind, "label": label, "confidence": 0.8})
    return pd.DataFrame(rows)


def test_tags_round_trip_into_the_theme_table(store_url: str) -> None:
    store = Store.open(store_url)
    version = store.activate_taxonomy(load_taxonomy(ROOT / "taxonomy.yaml"), "v1")
    results = store.ingest([
        ResponseIn(id="r1", score=2, segments={"plan": "free"}, responded_at="2025-03-01"),
        ResponseIn(id="r2", score=9, segments={"plan": "pro"}, responded_at="2025-04-01"),
        ResponseIn(id="r3", score=8, segments={"plan": "pro"}),
        ResponseIn(id="t1", score=10, survey_type="transactional")])
    ids = {r.source_response_id: r.id for r in results}
    heads = {"area": "zero-shot", "type": "zero-shot"}
    assert store.save_tags(_fake_tags(ids), version.id, heads) == 8
    assert store.save_tags(_fake_tags(ids), version.id, heads) == 8  # re-tag replaces
    with store.sessions() as session:
        assert session.scalar(select(func.count(TagRow.id))) == 8
    responses, tags = store.analysis_frames(Filters(survey_type="relationship"), version.id)
    assert sorted(responses["response_id"]) == sorted(str(ids[r]) for r in ("r1", "r2", "r3"))
    table = {(t.theme, t.kind): t for t in theme_table(responses, tags, min_n=1).themes}
    search = table[("search", "area")]
    assert (search.n, search.promoters, search.detractors) == (2, 1, 1)
    assert table[("search/bug", "area_type")].n == 1
    free, _ = store.analysis_frames(Filters(survey_type="relationship",
                                            segments=(("plan", "free"),)), version.id)
    assert list(free["response_id"]) == [str(ids["r1"])]
    spring, _ = store.analysis_frames(Filters(date_from=pd.Timestamp("2025-03-15").date()),
                                      version.id)
    assert list(spring["response_id"]) == [str(ids["r2"])]
    total, page = store.theme_comments("search", "area", version.id, Filters(),
                                       category="detractor", limit=10, offset=0)
    assert total == 1
    assert page[0]["statement"] == "search is broken"
    assert page[0]["score"] == 2


def test_bad_urls_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        connect("no url at all")
    with pytest.raises(StoreError, match="SQLite or PostgreSQL"):
        connect("mysql://u@h/db")
    with pytest.raises(StoreError, match="cannot reach"):
        Store.open("postgresql+psycopg://nobody@127.0.0.1:1/none")
