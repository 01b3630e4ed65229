"""Train a supervised head from a labelled table: frozen embeddings + calibrated logistic OvR."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from themer import __version__
from themer.errors import Errors
from themer.ingest import score_categories, text_list
from themer.nlp.classify import DecisionRule, LinearHead, assign
from themer.nlp.embed import CachedEncoder
from themer.taxonomy import LabelKind, TaxonomyInfo

__all__ = ["DEFAULT_HEAD_THRESHOLD", "FittedHead", "confusion_counts", "fit_head", "label_matrix",
           "normalize_label", "train_head"]

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
               progress: Callable[[int], Any] | None = None, score_col: str | None = None,
               scale: str = "nps") -> dict[str, Any]:
    """Fit, measure out of fold, save under ``output``; returns the metadata written.

    ``score_col`` (scores on ``scale``) also measures the error rates per NPS group, which
    lets the theme table correct theme NPS (``error_rates_by_group`` in ``head.json``)."""
    for column in (text_col, label_col, *([score_col] if score_col else [])):
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
    groups = None if score_col is None else _groups(frame, score_col, kept, scale, source)
    fitted = fit_head(X, Y, classes, texts, kind=kind, threshold=threshold,
                      random_state=random_state, groups=groups)
    meta = {
        "label_kind": kind, "labels": classes, "taxonomy_version": taxonomy.version,
        "taxonomy_hash": taxonomy.content_hash, "taxonomy_source": taxonomy.source,
        "embedding_model_id": encoder.model_id, "n_train": len(kept),
        "support": {c: int(Y[:, j].sum()) for j, c in enumerate(classes)},
        "threshold": fitted.cut, "label_thresholds": fitted.label_thresholds,
        "metrics": fitted.metrics, "error_rates": fitted.error_rates,
        **({"error_rates_by_group": fitted.error_rates_by_group}
           if fitted.error_rates_by_group else {}),
        "training_data": source,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "themer_version": __version__,
    }
    fitted.head.save(output, meta)
    return meta


@dataclass(frozen=True)
class FittedHead:
    """A head fitted on (X, Y) with what its out-of-fold predictions measured.

    ``error_rates``: per label, the confusion counts of the out-of-fold decisions (at the cuts
    the head ships with) against the gold labels; the theme table corrects counts with them.
    """

    head: LinearHead
    cut: float
    label_thresholds: dict[str, float] | None
    metrics: dict[str, Any]
    error_rates: dict[str, dict[str, int]]
    # per label, the counts among promoters, passives, detractors (when scores were given)
    error_rates_by_group: dict[str, list[dict[str, int]]] | None = None


def fit_head(X: np.ndarray, Y: np.ndarray, classes: list[str], texts: list[str], *,
             kind: LabelKind, threshold: float | None = None,
             random_state: int = 0, groups: np.ndarray | None = None) -> FittedHead:
    """Fit a head on embedded, labelled rows and measure it out of fold (F1, error counts).

    The lower-level half of ``train_head`` (no file, no encoder): the labelling loop trains
    through it too, so every head carries the same measurements.
    """
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
    by_group = None
    if groups is not None:  # 0 promoter, 1 passive, 2 detractor per row
        parts = [confusion_counts(Y[groups == g].astype(bool), predicted[groups == g], classes)
                 for g in range(3)]
        by_group = {c: [part[c] for part in parts] for c in classes}
    return FittedHead(head, cut, label_thresholds, metrics,
                      confusion_counts(Y.astype(bool), predicted, classes), by_group)


def _groups(frame: pd.DataFrame, score_col: str, kept: list[int], scale: str,
            source: str) -> np.ndarray:
    """The NPS group (0 promoter, 1 passive, 2 detractor) of each kept row's score."""
    order = {"promoter": 0, "passive": 1, "detractor": 2}
    return np.asarray([order[c] for c in score_categories(frame, score_col, kept, scale,
                                                          source)], dtype=np.int64)


def confusion_counts(gold: np.ndarray, predicted: np.ndarray, labels: list[str]
                     ) -> dict[str, dict[str, int]]:
    """Per label, {tp, fp, fn, tn} of ``predicted`` against ``gold`` ((n, L) indicators).

    The form ``head.json`` stores under ``error_rates``; ``themer.analytics.quantify``
    reads it (``ErrorCounts.from_dict``) and has the same count as ``error_counts``.
    """
    gold, predicted = np.asarray(gold, dtype=bool), np.asarray(predicted, dtype=bool)
    if gold.shape != predicted.shape or gold.shape[1] != len(labels):
        raise Errors.THM336.error(gold=list(gold.shape), predicted=list(predicted.shape),
                                  labels=len(labels))
    cells = {"tp": gold & predicted, "fp": ~gold & predicted, "fn": gold & ~predicted,
             "tn": ~gold & ~predicted}
    sums = {name: mask.sum(axis=0) for name, mask in cells.items()}
    return {str(label): {name: int(sums[name][j]) for name in cells}
            for j, label in enumerate(labels)}
