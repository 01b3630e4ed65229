"""The roadmap in the store (both backends): saved apart from the taxonomy, checked against it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from themer.analytics.priorities import Roadmap, load_roadmap, roadmap_from_dict
from themer.errors import InputFileError, StoreError
from themer.store.jobs import create_retag_job
from themer.store.models import Job, RoadmapVersion, TaxonomyVersion
from themer.store.repository import ResponseIn, Store
from themer.taxonomy import parse_taxonomy

ROOT = Path(__file__).resolve().parents[2]
V1 = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8")
DOC: dict[str, Any] = {
    "planned": ["search"], "effort": {"search": "M", "billing": "S"},
    "launches": [{"name": "new search", "date": "2025-06-02", "where": {"plan": "pro"}}],
    "fixes": [{"name": "sync fix", "date": "2025-07-15", "theme": "reliability"}]}


def _counts(store: Store) -> tuple[int, int, list[tuple[int, bool, str]]]:
    with store.sessions() as session:
        jobs = int(session.scalar(select(func.count(Job.id))) or 0)
        roadmaps = int(session.scalar(select(func.count(RoadmapVersion.id))) or 0)
        versions = [(v.id, v.active, v.content_hash) for v in session.scalars(
            select(TaxonomyVersion).order_by(TaxonomyVersion.id))]
    return jobs, roadmaps, versions


def test_saving_a_roadmap_touches_no_taxonomy_version_and_no_job(store_url: str) -> None:
    store = Store.open(store_url)
    assert store.roadmap() is None
    version = store.activate_taxonomy(parse_taxonomy(V1), V1)
    store.ingest([ResponseIn(id="r1", score=3, comments={"reason": "Search is slow."})])
    create_retag_job(store, version.id, None)  # one job already there: it must stay one
    jobs, roadmaps, versions = _counts(store)
    assert roadmaps == 0

    row = store.save_roadmap(DOC, "analyst@example.com")
    assert row.taxonomy_version_id == version.id
    assert row.author == "analyst@example.com"
    saved = store.roadmap()
    assert saved is not None
    assert saved["effort"] == {"search": "M", "billing": "S"}
    assert saved["launches"][0]["window_days"] == 30  # stored validated, defaults filled in
    assert _counts(store) == (jobs, 1, versions)

    store.save_roadmap({"effort": {"search": "XL"}}, "lead")  # the newest one is the roadmap
    assert store.roadmap() == Roadmap(effort={"search": "XL"}).model_dump(mode="json")
    assert _counts(store) == (jobs, 2, versions)
    # what roadmap() gives loads as a roadmap again
    again = roadmap_from_dict(store.roadmap(), parse_taxonomy(V1), "stored")
    assert again.effort == {"search": "XL"}


@pytest.mark.parametrize(("doc", "code", "message"), [
    ({"effort": {"search": "XXL"}}, "THM154", "effort.search"),
    ({"planned": "search"}, "THM154", "planned"),
    ({"fixes": [{"name": "x", "date": "not a date", "theme": "search"}]}, "THM154",
     "fixes.0.date"),
    ({"colour": "red"}, "THM154", "colour"),
    ({"effort": {"serach": "M"}}, "THM155", "serach"),
    ({"fixes": [{"name": "x", "date": "2025-01-01", "theme": "nope"}]}, "THM155", "nope"),
])
def test_an_invalid_roadmap_is_refused_and_nothing_is_saved(
        store_url: str, doc: dict[str, Any], code: str, message: str) -> None:
    store = Store.open(store_url)
    store.activate_taxonomy(parse_taxonomy(V1), V1)
    store.save_roadmap(DOC, "analyst")
    with pytest.raises(InputFileError, match=message) as caught:
        store.save_roadmap(doc, "analyst")
    assert caught.value.code == code
    saved = store.roadmap()
    assert saved is not None
    assert saved["effort"] == DOC["effort"]  # the earlier roadmap is still the roadmap
    assert _counts(store)[1] == 1


def test_a_roadmap_needs_an_active_taxonomy(store_url: str) -> None:
    store = Store.open(store_url)
    with pytest.raises(StoreError, match="no active taxonomy") as caught:
        store.save_roadmap(DOC, "analyst")
    assert caught.value.code == "THM510"
    assert store.roadmap() is None


def test_load_roadmap_validates_as_roadmap_from_dict(tmp_path: Path) -> None:
    taxonomy = parse_taxonomy(V1, "taxonomy.yaml")
    path = tmp_path / "roadmap.yaml"
    path.write_text("effort:\n  search: XXL\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"roadmap.yaml: roadmap key 'effort.search'"):
        load_roadmap(path, taxonomy)
    assert roadmap_from_dict(None, taxonomy, "empty") == Roadmap()
    assert load_roadmap(ROOT / "examples" / "roadmap.yaml", taxonomy).planned == ["search"]
