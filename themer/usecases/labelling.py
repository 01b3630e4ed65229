"""The labelling loop: ask the analyst about the statements that teach the head most, store the
labels, re-train the head from them in seconds and re-tag the store from cached vectors.

    next_batch(ctx, k)          the next k statements to label, with suggestions and context
    save_labels(ctx, items, by) validate every label, then store all of them (one transaction)
    export_labels / import_labels   the same as a spreadsheet round-trip (XLSX or CSV)
    train_from_labels(ctx)      heads from the labels + the taxonomy's seed phrases, saved to
                                the models folder; the store re-tagged; accuracy and changes
    status(ctx)                 how many labels, what the last round measured

Labels belong to the active taxonomy version. The CLI (``themer label``) and the API
(``/v1/label...``) call these functions, so both doors give the same numbers.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from themer.errors import Errors
from themer.usecases.context import Context
from themer.usecases.label_sheets import LabelItem

if TYPE_CHECKING:
    from themer.nlp.tagger import Tagger
    from themer.store.labels import LabelIn
    from themer.store.models import TaxonomyVersion
    from themer.store.repository import Store
    from themer.taxonomy import LabelKind, TaxonomyInfo

__all__ = ["MAX_K", "MAX_LABELS", "LabelItem", "TaggerFor", "check_token", "export_labels",
           "import_labels", "next_batch", "save_labels", "status", "train_from_labels"]

MAX_K = 100  # statements per batch
MAX_LABELS = 1_000  # labels per call (the API) ...
MAX_FILE_ROWS = 10_000  # ... and rows per imported sheet
MAX_POOL = 200_000  # statements the next batch is chosen from (lowest ids first)
RETAG_RESPONSES = 5_000  # responses re-tagged per transaction after a training round
KINDS: tuple[LabelKind, ...] = ("area", "type")
TaggerFor = Callable[["TaxonomyVersion"], "Tagger"]


def _store_and_version(ctx: Context) -> tuple[Store, TaxonomyVersion, TaxonomyInfo]:
    from themer.taxonomy import parse_taxonomy

    store = ctx.open_store()
    version = store.active_taxonomy()
    if version is None:
        raise Errors.THM182.error()
    return store, version, parse_taxonomy(version.yaml, f"taxonomy v{version.version}")


def _default_taggers(ctx: Context) -> TaggerFor:
    from themer.runtime.encoders import store_tagger_for

    return store_tagger_for(ctx.settings)


def check_token(version_hash: str, statement_id: int, text: str) -> str:
    """The ``check`` cell of an exported row: ties the id to its text and taxonomy version, so
    an edited id (or a sheet of another version) is caught on import."""
    digest = hashlib.sha256(f"{version_hash}\x00{statement_id}\x00{' '.join(text.split())}"
                            .encode()).hexdigest()
    return digest[:12]


def _taxonomy_out(version: TaxonomyVersion, info: TaxonomyInfo) -> dict[str, Any]:
    return {"taxonomy_version_id": version.id, "version": version.version,
            "hash": version.content_hash,
            "areas": [{"id": a.id, "name": a.display_name} for a in info.taxonomy.areas],
            "types": [{"id": t.id, "name": t.display_name} for t in info.taxonomy.types]}


# --- the next batch ----------------------------------------------------------------------

def next_batch(ctx: Context, k: int, *, taggers: TaggerFor | None = None) -> dict[str, Any]:
    """The next ``k`` statements to label (best first), each with its comment, the current
    tags as suggestions and the label already given (if any)."""
    from themer.nlp.active import choose_to_label
    from themer.store.labels import statement_contexts, store_statements, stored_labels

    store, version, info = _store_and_version(ctx)
    k = max(1, min(k, MAX_K))  # the doors refuse other values before they get here
    tagger = (taggers or _default_taggers(ctx))(version)
    statements = store_statements(store, MAX_POOL)
    texts = statements["statement"].tolist()
    vectors = tagger.encoder.encode(texts)  # cached since they were tagged
    results = tagger.tag_vectors(vectors, texts)
    ids = statements["statement_id"].astype("int64").to_numpy()
    given = {label.statement_id: label for label in stored_labels(store, version.id)}
    labelled = np.isin(ids, np.fromiter(given, dtype=np.int64, count=len(given)))
    proba = np.concatenate([results[kind][1] for kind in KINDS], axis=1)
    bars = np.concatenate([tagger.rules[kind].bars(results[kind][1].shape[1]) for kind in KINDS])
    picked = choose_to_label(vectors, proba, bars, labelled, k, keys=[str(i) for i in ids])
    contexts = statement_contexts(store, [int(ids[i]) for i in picked])
    classes = {kind: [str(c) for c in tagger.scorers[kind].classes_] for kind in KINDS}
    items = []
    for i in picked:
        sid = int(ids[i])
        where = contexts[sid]
        suggested = {kind: [classes[kind][j] for j in np.flatnonzero(results[kind][0][i])]
                     for kind in KINDS}
        confidence = {kind: {c: round(float(p), 4) for c, p in zip(
            classes[kind], results[kind][1][i], strict=True)} for kind in KINDS}
        earlier = given.get(sid)
        items.append({
            "statement_id": sid, "response_id": where.source_response_id,
            "question": where.question, "text": where.text, "comment": where.comment,
            "start": where.start, "end": where.end, "score": where.score,
            "check": check_token(version.content_hash, sid, where.text),
            "suggested": {"areas": suggested["area"],
                          "type": suggested["type"][0] if suggested["type"] else None},
            "confidence": {"areas": confidence["area"], "types": confidence["type"]},
            "label": None if earlier is None else {
                "areas": list(earlier.areas), "type": earlier.type,
                "new_theme": earlier.new_theme, "labelled_by": earlier.labelled_by}})
    return {"taxonomy": _taxonomy_out(version, info), "pool": len(ids),
            "labelled": int(labelled.sum()), "sources": dict(tagger.sources), "items": items}


# --- saving labels -----------------------------------------------------------------------

def _label_in(item: LabelItem, where: str, version: TaxonomyVersion, info: TaxonomyInfo
              ) -> LabelIn:
    """One label checked against the active version's taxonomy (nothing is written yet)."""
    from themer.store.labels import LabelIn

    if item.taxonomy_version_id != version.id:
        raise Errors.THM192.error(where=where, column="taxonomy_version_id",
                                  given=item.taxonomy_version_id, expected=version.id)
    areas = info.taxonomy.label_ids("area")
    for area in item.areas:
        if area not in areas:
            raise Errors.THM188.error(where=where, column="areas", label=area, kind="an area",
                                      version=version.version, allowed=", ".join(areas))
    types = info.taxonomy.label_ids("type")
    if item.type is not None and item.type not in types:
        raise Errors.THM188.error(where=where, column="type", label=item.type, kind="a type",
                                  version=version.version, allowed=", ".join(types))
    ordered = tuple(a for a in areas if a in set(item.areas))  # taxonomy order, no repeats
    return LabelIn(item.statement_id, version.id, ordered, item.type,
                   item.new_theme or None, where)


def save_labels(ctx: Context, items: Sequence[LabelItem], by: str, *,
                source: str = "request") -> dict[str, Any]:
    """Check every label, then store them all in one transaction (or none); the doors bound
    a call to MAX_LABELS labels."""
    from themer.store.labels import label_counts
    from themer.store.labels import save_labels as store_labels

    store, version, info = _store_and_version(ctx)
    checked = [_label_in(item, f"{source}, item {n}", version, info)
               for n, item in enumerate(items, start=1)]
    saved = store_labels(store, checked, by)
    return {"taxonomy_version_id": version.id, "saved": saved,
            **label_counts(store, version.id)}


def import_labels(ctx: Context, path: Path, by: str) -> dict[str, Any]:
    """A filled-in sheet of ``export_labels`` (XLSX or CSV): every row checked (its statement
    still stored, its check cell matching, its labels in the taxonomy), then all stored."""
    from themer.store.labels import label_counts, statement_contexts
    from themer.store.labels import save_labels as store_labels
    from themer.usecases.label_sheets import read_sheet

    store, version, info = _store_and_version(ctx)
    rows = read_sheet(path, MAX_FILE_ROWS)
    contexts = statement_contexts(store, [row.item.statement_id for row in rows])
    checked = []
    for row in rows:
        where = f"{path}, row {row.row}"
        found = contexts.get(row.item.statement_id)
        if found is None:
            raise Errors.THM189.error(where=where, column="statement_id", problem=(
                f"statement {row.item.statement_id} is not in the store (deleted, or the id "
                "was edited)"))
        label = _label_in(row.item, where, version, info)
        if row.check != check_token(version.content_hash, found.statement_id, found.text):
            raise Errors.THM189.error(where=where, column="check", problem=(
                f"the check does not match statement {found.statement_id} (its id or "
                "taxonomy version was edited)"))
        checked.append(label)
    saved = store_labels(store, checked, by)
    return {"input": str(path), "taxonomy_version_id": version.id, "rows": len(rows),
            "saved": saved, **label_counts(store, version.id)}


def export_labels(ctx: Context, path: Path, k: int, *,
                  taggers: TaggerFor | None = None) -> dict[str, Any]:
    """The next ``k`` statements as a sheet to fill in (XLSX or CSV, by the suffix)."""
    from themer.usecases.label_sheets import write_sheet

    batch = next_batch(ctx, k, taggers=taggers)
    write_sheet(path, batch)
    return {"output": str(path), "rows": len(batch["items"]),
            "taxonomy_version_id": batch["taxonomy"]["taxonomy_version_id"]}


# --- training ----------------------------------------------------------------------------

def _matrix(kind: str, labels: Sequence[Any], classes: list[str]
            ) -> tuple[list[Any], np.ndarray]:
    """The labels that say something about ``kind`` and their indicator matrix."""
    if kind == "area":
        rows = list(labels)
        Y = np.array([[c in label.areas for c in classes] for label in rows], dtype=bool)
    else:
        rows = [label for label in labels if label.type is not None]
        Y = np.array([[c == label.type for c in classes] for label in rows], dtype=bool)
    return rows, Y.reshape(len(rows), len(classes))


def head_folder(models_dir: Path, kind: str, info: TaxonomyInfo, model_id: str) -> Path:
    """Where the labelled head of one kind, taxonomy content and encoder is saved."""
    model = hashlib.sha256(model_id.encode()).hexdigest()[:8]
    return models_dir / f"labelled-{kind}-{info.content_hash[:12]}-{model}"


def _train_kind(ctx: Context, kind: LabelKind, labels: Sequence[Any], tagger: Tagger,
                version: TaxonomyVersion, info: TaxonomyInfo) -> dict[str, Any] | None:
    """Fit, measure (cross-validated) and save the head of one kind; None without labels."""
    from themer import __version__
    from themer.nlp.active import estimate_accuracy, fit_labelled_head, seed_rows

    classes = info.taxonomy.label_ids(kind)
    rows, Y = _matrix(kind, labels, classes)
    if not rows:
        return None
    texts = [label.text for label in rows]
    X = tagger.encoder.encode(texts)
    phrases = [label.prototype_texts() for label in info.taxonomy.labels(kind)]
    seeds = seed_rows(phrases, tagger.encoder.encode([t for block in phrases for t in block]))
    head = fit_labelled_head(X, Y, classes, texts, seeds=seeds)
    estimate = estimate_accuracy(X, Y, classes, texts, seeds=seeds)
    estimate = {key: round(float(value), 4) if isinstance(value, float) else value
                for key, value in estimate.items()}
    folder = head_folder(ctx.settings.models_dir, kind, info, tagger.encoder.model_id)
    meta = {
        "label_kind": kind, "taxonomy_version": info.version,
        "taxonomy_hash": info.content_hash, "taxonomy_source": info.source,
        "embedding_model_id": tagger.encoder.model_id, "n_train": len(rows),
        "support": {c: int(Y[:, j].sum()) for j, c in enumerate(classes)},
        "threshold": 0.5,
        "label_thresholds": {c: round(float(t), 2)
                             for c, t in zip(classes, head.thresholds_, strict=True)},
        "metrics": {**estimate, "evaluation": "cross-validated on the analyst's labels "
                    "(themer.nlp.active.estimate_accuracy), 95% bootstrap interval"},
        "training_data": f"store labels of taxonomy version id {version.id}",
        "labelling": {"taxonomy_version_id": version.id, "labels": len(labels)},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "themer_version": __version__}
    head.save(folder, meta)
    return {"folder": folder.name, "n_train": len(rows), "accuracy": estimate}


def train_from_labels(ctx: Context, *, taggers: TaggerFor | None = None) -> dict[str, Any]:
    """Heads from the active version's labels (areas always, types once some are labelled),
    saved in the models folder; the store's statements re-tagged from cached vectors. Returns
    each head's cross-validated accuracy and how many statements changed tags."""
    from themer.store.labels import stored_labels

    store, version, info = _store_and_version(ctx)
    labels = stored_labels(store, version.id)
    if not labels:
        raise Errors.THM193.error(version=version.version)
    old = (taggers or _default_taggers(ctx))(version)
    misses = old.encoder.misses
    heads = {kind: _train_kind(ctx, kind, labels, old, version, info) for kind in KINDS}
    tagger = _fresh_tagger(ctx, version, old)
    for kind, trained in heads.items():
        if trained is not None and tagger.sources[kind] != f"head:{trained['folder']}":
            ctx.notes(f"{kind}: another head in {ctx.settings.models_dir} is used "
                      f"({tagger.sources[kind]}), not {trained['folder']}")
    changes = _retag_store(ctx, store, tagger, version.id)
    return {"taxonomy_version_id": version.id, "version": version.version,
            "labels": len(labels), "heads": heads, "sources": dict(tagger.sources),
            **changes, "embedded": old.encoder.misses - misses}


def _fresh_tagger(ctx: Context, version: TaxonomyVersion, old: Tagger) -> Tagger:
    """The version's tagger with the heads just saved (same encoder and cache)."""
    from themer.store.pipeline import tagger_for_version

    return tagger_for_version(version, old.encoder, models_dir=ctx.settings.models_dir,
                              splitter=old.splitter)


def _retag_store(ctx: Context, store: Store, tagger: Tagger, version_id: int
                 ) -> dict[str, Any]:
    """Re-tag every stored statement with ``tagger`` from its cached vector, replacing the
    version's tags range by range; counts statements whose tags changed (old vs new)."""
    import pandas as pd
    from sqlalchemy import select

    from themer.store.models import ResponseRow
    from themer.store.pipeline import head_versions

    with store.sessions() as session:
        ids = list(session.scalars(select(ResponseRow.id).order_by(ResponseRow.id)))
    total = changed = 0
    added: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    with ctx.progress("re-tagging the store", len(ids)) as advance:
        for start in range(0, len(ids), RETAG_RESPONSES):
            first, last = ids[start], ids[min(start + RETAG_RESPONSES, len(ids)) - 1]
            statements = store.stored_statements(first, last)
            if len(statements):
                before = store.range_labels(version_id, first, last)
                tags = pd.concat(list(tagger.retag(statements)), ignore_index=True)
                after = set(zip(tags["statement_id"].astype("int64").tolist(),
                                tags["kind"].tolist(), tags["label"].tolist(), strict=True))
                moved = before ^ after
                changed += len({s for s, _, _ in moved})
                added.update(f"{k}:{label}" for _, k, label in after - before)
                removed.update(f"{k}:{label}" for _, k, label in before - after)
                store.replace_range_tags(tags, version_id, head_versions(tagger), first, last)
                total += len(statements)
            advance(min(RETAG_RESPONSES, len(ids) - start))
    return {"statements": total, "changed_statements": changed,
            "added": dict(sorted(added.items())), "removed": dict(sorted(removed.items()))}


# --- status ------------------------------------------------------------------------------

def status(ctx: Context) -> dict[str, Any]:
    """The active version's labels (counts per area, type and new theme) and what the last
    training round measured (from the saved heads)."""
    from themer.store.labels import stored_labels

    store, version, info = _store_and_version(ctx)
    labels = stored_labels(store, version.id)
    areas = Counter(a for label in labels for a in label.areas)
    types = Counter(label.type for label in labels if label.type is not None)
    themes = Counter(label.new_theme for label in labels if label.new_theme)
    heads: dict[str, Any] = {}
    for kind in KINDS:
        found = sorted(ctx.settings.models_dir.glob(f"labelled-{kind}-{info.content_hash[:12]}-*"
                                                    "/head.json"))
        if found:
            meta = json.loads(found[0].read_text(encoding="utf-8"))
            trained = int(meta.get("labelling", {}).get("labels", 0))
            heads[kind] = {"folder": found[0].parent.name, "n_train": meta.get("n_train"),
                           "labels_then": trained, "trained_at": meta.get("created_at"),
                           "accuracy": {k: v for k, v in meta.get("metrics", {}).items()
                                        if k != "evaluation"}}
    return {"taxonomy_version_id": version.id, "version": version.version,
            "labels": len(labels), "labellers": len({label.labelled_by for label in labels}),
            "none_of_these": sum(1 for label in labels if not label.areas),
            "areas": {a: areas.get(a, 0) for a in info.taxonomy.label_ids("area")},
            "types": {t: types.get(t, 0) for t in info.taxonomy.label_ids("type")},
            "untyped": sum(1 for label in labels if label.type is None),
            "new_themes": dict(sorted(themes.items())), "heads": heads}
