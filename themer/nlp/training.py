"""Train a supervised head from a labelled table: frozen embeddings + calibrated logistic OvR."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from themer import __version__
from themer.errors import Errors
from themer.ingest import text_list
from themer.nlp.classify import DecisionRule, LinearHead, assign
from themer.nlp.embed import CachedEncoder
from themer.taxonomy import LabelKind, TaxonomyInfo

__all__ = ["DEFAULT_HEAD_THRESHOLD", "label_matrix", "normalize_label", "train_head"]

DEFAULT_HEAD_THRESHOLD: dict[LabelKind, float] = {"area": 0.5, "type": 0.35}
MAX_TRAIN_ROWS = 200_000


def normalize_label(label: str) -> str:
    """'APP USABILITY' -> 'app_usability', 'FOOD#QUALITY' -> 'food_quality' (taxonomy id form)."""
    return re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")


def label_matrix(frame: pd.DataFrame, label_col: str, sep: str, allowed: list[str],
                 source: str, normalize: bool = False
                 ) -> tuple[np.ndarray, list[str], list[int]]:
    """(indicator matrix, labels in taxonomy order, kept row positions); unknown labels fail.

    ``normalize`` maps gold labels to taxonomy id form first (``normalize_label``).
    """
    # Blank cells mean "no gold label": those rows are skipped (and counted by the caller).
    cells = text_list(frame[label_col])
    split = [[p.strip() for p in v.split(sep) if p.strip()] if sep
             else [v.strip()] if v.strip() else [] for v in cells]
    if normalize:
        split = [[normalize_label(p) for p in labels] for labels in split]
    allowed_set = set(allowed)
    for i, labels in enumerate(split):
        for label in labels:
            if label not in allowed_set:
                raise Errors.THM120.error(
                    source=source, row=i + 2, column=label_col, label=label,
                    allowed=", ".join(allowed),
                    normalizing="" if normalize else ", or normalize the labels (case and "
                                                     "punctuation ignored)")
    kept = [i for i, labels in enumerate(split) if labels]
    present = [label for label in allowed if any(label in split[i] for i in kept)]
    matrix = np.array([[label in split[i] for label in present] for i in kept], dtype=bool)
    return matrix, present, kept


def train_head(frame: pd.DataFrame, *, text_col: str, label_col: str, labels_sep: str,
               kind: LabelKind, taxonomy: TaxonomyInfo, encoder: CachedEncoder,
               output: Path, source: str, threshold: float | None = None,
               random_state: int = 0, normalize_labels: bool = False,
               progress: Callable[[int], Any] | None = None) -> dict[str, Any]:
    """Fit, measure out of fold, save under ``output``; returns the metadata written."""
    for column in (text_col, label_col):
        if column not in frame.columns:
            raise Errors.THM113.error(source=source, absent=[column],
                                      columns=list(frame.columns))
    if len(frame) > MAX_TRAIN_ROWS:
        raise Errors.THM121.error(source=source, rows=len(frame), limit=MAX_TRAIN_ROWS)
    Y, classes, kept = label_matrix(frame, label_col, labels_sep,
                                    taxonomy.taxonomy.label_ids(kind), source, normalize_labels)
    if len(kept) < 10:
        raise Errors.THM122.error(source=source, rows=len(kept), needed=10)
    texts = text_list(frame[text_col].iloc[kept])
    X = encoder.encode(texts, progress=progress)
    head = LinearHead(random_state=random_state).fit(X, Y, classes, texts)
    # Without an explicit --threshold each label gets the cut that maximised its out-of-fold F1.
    cut = DEFAULT_HEAD_THRESHOLD[kind] if threshold is None else threshold
    label_thresholds = (None if threshold is not None else
                        {c: round(float(t), 2) for c, t in zip(classes, head.thresholds_,
                                                                 strict=True)})
    rule = DecisionRule(multi_label=kind == "area", min_confidence=cut,
                        label_thresholds=None if label_thresholds is None
                        else tuple(label_thresholds.values()))
    predicted = assign(head.oof_proba_, rule)
    metrics = {
        "macro_f1": float(f1_score(Y, predicted, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(Y, predicted, average="micro", zero_division=0)),
        "abstain_rate": float((~predicted.any(axis=1)).mean()),
        "evaluation": "out-of-fold (stratified 5-fold per label), calibrated probabilities",
    }
    meta = {
        "label_kind": kind, "labels": classes, "taxonomy_version": taxonomy.version,
        "taxonomy_hash": taxonomy.content_hash, "taxonomy_source": taxonomy.source,
        "embedding_model_id": encoder.model_id, "n_train": len(kept),
        "support": {c: int(Y[:, j].sum()) for j, c in enumerate(classes)},
        "threshold": cut, "label_thresholds": label_thresholds, "metrics": metrics,
        "training_data": source,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "themer_version": __version__,
    }
    head.save(output, meta)
    return meta
