"""The labelling loop's use cases on a small tagged store: the next batch, labels checked before
anything is stored, the spreadsheet round-trip, and a training round that changes tags."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from labelling_store import ROOT, analyst, build_store
from openpyxl import load_workbook
from sqlalchemy import select

from themer.config import Settings
from themer.errors import InputFileError
from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import CachedEncoder, SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import find_heads
from themer.store.labels import label_counts
from themer.store.models import TagRow
from themer.store.pipeline import tagger_for_version
from themer.store.repository import Store
from themer.taxonomy import load_taxonomy
from themer.usecases.context import Context
from themer.usecases.labelling import (
    LabelItem,
    export_labels,
    import_labels,
    next_batch,
    save_labels,
    status,
    train_from_labels,
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("label-cache")  # shared: each text is embedded once


@pytest.fixture
def loop(tmp_path: Path, cache_dir: Path, encoder: SentenceTransformerEncoder,
         splitter: StatementSplitter) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path / 'themer.db'}"
    models = tmp_path / "models"
    store = build_store(url, cache_dir, models, encoder, splitter)
    settings = Settings(database_url=url, cache_dir=cache_dir, models_dir=models,
                        taxonomy=ROOT / "taxonomy.yaml")
    cached = CachedEncoder(encoder, EmbeddingCache(cache_dir / "embeddings"))

    def taggers(version: Any) -> Any:
        return tagger_for_version(version, cached, models_dir=models, splitter=splitter)

    version = store.active_taxonomy()
    assert version is not None
    return {"ctx": Context(settings, store=store), "taggers": taggers, "store": store,
            "version": version.id, "tmp": tmp_path, "encoder": cached}


def _labels(batch: dict[str, Any], version: int) -> list[LabelItem]:
    return [LabelItem(statement_id=item["statement_id"], taxonomy_version_id=version,
                      **analyst(item["text"])) for item in batch["items"]]


def test_the_next_batch_is_bounded_deterministic_and_skips_labelled(loop: dict[str, Any]
                                                                     ) -> None:
    ctx, taggers = loop["ctx"], loop["taggers"]
    first = next_batch(ctx, 6, taggers=taggers)
    again = next_batch(ctx, 6, taggers=taggers)
    ids = [item["statement_id"] for item in first["items"]]
    assert ids == [item["statement_id"] for item in again["items"]]
    assert len(set(ids)) == 6
    assert first["labelled"] == 0
    assert first["pool"] > 36  # some comments hold two statements
    for item in first["items"]:
        assert item["comment"][item["start"]:item["end"]] == item["text"]
        assert set(item["suggested"]["areas"]) <= set(item["confidence"]["areas"])
    assert {a["id"] for a in first["taxonomy"]["areas"]} >= {"search", "billing"}
    save_labels(ctx, _labels(first, loop["version"]), "tester")
    later = next_batch(ctx, 6, taggers=taggers)
    assert later["labelled"] == 6
    assert not set(ids) & {item["statement_id"] for item in later["items"]}


@pytest.mark.parametrize(("change", "code", "words"), [
    ({"areas": ["teleportation"]}, "THM188", "item 2, column 'areas': 'teleportation'"),
    ({"type": "rant"}, "THM188", "item 2, column 'type': 'rant' is not a type"),
    ({"taxonomy_version_id": 99}, "THM192", "for taxonomy version 99"),
    ({"statement_id": 999_999}, "THM189", "statement 999999 is not in the store"),
])
def test_a_bad_label_stores_nothing(loop: dict[str, Any], change: dict[str, Any], code: str,
                                    words: str) -> None:
    batch = next_batch(loop["ctx"], 3, taggers=loop["taggers"])
    items = _labels(batch, loop["version"])
    items[1] = items[1].model_copy(update=change)
    with pytest.raises(InputFileError, match=words) as caught:
        save_labels(loop["ctx"], items, "tester")
    assert caught.value.code == code
    assert label_counts(loop["store"], loop["version"])["labels"] == 0


def test_relabelling_replaces_the_label(loop: dict[str, Any]) -> None:
    batch = next_batch(loop["ctx"], 1, taggers=loop["taggers"])
    first = _labels(batch, loop["version"])[0]
    save_labels(loop["ctx"], [first], "ann")
    save_labels(loop["ctx"], [first.model_copy(update={"areas": [], "type": None,
                                                       "new_theme": "Offline mode"})], "bob")
    done = status(loop["ctx"])
    assert done["labels"] == 1
    assert done["none_of_these"] == 1
    assert done["new_themes"] == {"Offline mode": 1}
    assert done["labellers"] == 1  # bob's label replaced ann's


def _fill(path: Path, fill: dict[str, str] | None = None) -> None:
    """Fill in an exported sheet as the analyst would (``fill``: overrides for row 2)."""
    if path.suffix == ".csv":
        import csv

        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            label = analyst(row["statement"])
            row["areas"] = "; ".join(label["areas"]) or "none"
            row["type"] = label["type"]
        rows[0].update(fill or {})
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return
    book = load_workbook(path)
    sheet = book["labels"]
    header = [c.value for c in sheet[1]]
    for cells in sheet.iter_rows(min_row=2):
        label = analyst(str(cells[header.index("statement")].value))
        cells[header.index("areas")].value = "; ".join(label["areas"]) or "none"
        cells[header.index("type")].value = label["type"]
    for column, value in (fill or {}).items():
        sheet.cell(row=2, column=header.index(column) + 1, value=value)
    book.save(path)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_spreadsheet_round_trip_and_its_errors(loop: dict[str, Any], suffix: str) -> None:
    ctx, sheet = loop["ctx"], loop["tmp"] / f"batch{suffix}"
    exported = export_labels(ctx, sheet, 8, taggers=loop["taggers"])
    assert exported["rows"] == 8
    other = next_batch(ctx, 12, taggers=loop["taggers"])["items"][-1]["statement_id"]
    cases = [({"statement_id": str(other)}, "THM189", "row 2, column 'check'"),
             ({"statement_id": "999999"}, "THM189", "row 2, column 'statement_id'"),
             ({"areas": "search; teleport"}, "THM188", "row 2, column 'areas': 'teleport'"),
             ({"taxonomy_version_id": "7"}, "THM192", "row 2, column 'taxonomy_version_id'"),
             ({"statement_id": "abc"}, "THM149", "row 2, column 'statement_id'"),
             ({"areas": "", "type": "bug"}, "THM149", "row 2, column 'areas'")]
    for fill, code, words in cases:
        export_labels(ctx, sheet, 8, taggers=loop["taggers"])
        _fill(sheet, fill)
        with pytest.raises(InputFileError, match=words) as caught:
            import_labels(ctx, sheet, "tester")
        assert caught.value.code == code
        assert str(sheet) in caught.value.message
        assert label_counts(loop["store"], loop["version"])["labels"] == 0
    export_labels(ctx, sheet, 8, taggers=loop["taggers"])
    _fill(sheet)
    done = import_labels(ctx, sheet, "tester")
    assert (done["rows"], done["saved"], done["labels"]) == (8, 8, 8)


def test_malformed_sheets_are_refused(loop: dict[str, Any]) -> None:
    broken = loop["tmp"] / "broken.xlsx"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(InputFileError, match="cannot read it as XLSX") as caught:
        import_labels(loop["ctx"], broken, "tester")
    assert caught.value.code == "THM149"
    short = loop["tmp"] / "short.csv"
    short.write_text("statement_id,areas\n1,search\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"row 1: column\(s\) \['taxonomy_version_id'"):
        import_labels(loop["ctx"], short, "tester")
    with pytest.raises(InputFileError, match="not a label sheet type"):
        import_labels(loop["ctx"], loop["tmp"] / "labels.json", "tester")


def _tags(store: Store) -> dict[int, set[tuple[str, str]]]:
    with store.sessions() as session:
        rows = session.execute(select(TagRow.statement_id, TagRow.kind, TagRow.label,
                                      TagRow.head_version)).all()
    out: dict[int, set[tuple[str, str]]] = {}
    for statement, kind, label, head in rows:
        out.setdefault(int(statement), set()).add((kind, f"{label}|{head}"))
    return out


def test_a_training_round_changes_tags_and_reports_accuracy(
        loop: dict[str, Any], record_property: Any) -> None:
    ctx, taggers = loop["ctx"], loop["taggers"]
    assert status(ctx)["heads"] == {}
    before = _tags(loop["store"])
    save_labels(ctx, _labels(next_batch(ctx, 20, taggers=taggers), loop["version"]), "tester")
    began = time.perf_counter()
    done = train_from_labels(ctx, taggers=taggers)
    seconds = time.perf_counter() - began
    assert done["embedded"] == 0  # every vector came from the cache
    assert done["labels"] == 20
    assert 0 < done["changed_statements"] <= done["statements"]
    for kind in ("area", "type"):
        accuracy = done["heads"][kind]["accuracy"]
        assert 0.0 <= accuracy["ci_low"] <= accuracy["macro_f1"] <= accuracy["ci_high"] <= 1.0
        assert accuracy["n_labels"] == 20
    after = _tags(loop["store"])
    assert set(after) == set(before)
    assert sum(before[s] != after[s] for s in before) > 0
    heads = {h for tags in after.values() for _, value in tags for h in [value.split("|")[1]]}
    assert heads == {f"head:{done['heads'][k]['folder']}" for k in ("area", "type")}
    info = load_taxonomy(ROOT / "taxonomy.yaml")
    found = find_heads(ctx.settings.models_dir, info, loop["encoder"].model_id)
    assert {k: p.name for k, p in found.items()} == {k: done["heads"][k]["folder"]
                                                    for k in ("area", "type")}
    meta = json.loads((found["area"] / "head.json").read_text(encoding="utf-8"))
    assert meta["taxonomy_hash"] == info.content_hash
    assert meta["embedding_model_id"] == loop["encoder"].model_id
    shown = status(ctx)
    assert shown["heads"]["area"]["accuracy"]["macro_f1"] == \
        done["heads"]["area"]["accuracy"]["macro_f1"]
    # `pytest --junitxml` keeps it; docs/labelling.md quotes a run of this test
    record_property("train_seconds", round(seconds, 1))
