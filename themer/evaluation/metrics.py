"""How right predicted labels are: pure functions, arrays in, numbers out, no I/O.

Gold and predicted labels are boolean indicator matrices (n, L) over one label list;
probabilities are float matrices of the same shape. :class:`EvalResult` holds the pooled
predictions of one run and ``summarize`` turns it into the stable JSON of ``themer eval``
(F1, calibration, confusion, reliability, coverage and, given NPS categories, theme-NPS error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from themer.errors import Errors

__all__ = [
    "Bool2D",
    "EvalResult",
    "Float2D",
    "brier_score",
    "confusion",
    "coverage_curve",
    "expected_calibration_error",
    "label_scores",
    "reliability_bins",
    "summarize",
    "theme_nps_errors",
]

Bool2D = NDArray[np.bool_]
Float2D = NDArray[np.float32]


@dataclass(frozen=True)
class EvalResult:
    """Pooled predictions of one evaluation run."""

    labels: list[str]
    gold: Bool2D
    proba: Float2D
    predicted: Bool2D


def label_scores(gold: Bool2D, predicted: Bool2D, labels: Sequence[str]) -> dict[str, Any]:
    """Macro/micro F1 and per-label precision, recall, F1, support (scikit-learn definitions)."""
    from sklearn.metrics import precision_recall_fscore_support

    if gold.shape != predicted.shape or gold.shape[1] != len(labels):
        raise Errors.THM409.error()
    p, r, f, s = precision_recall_fscore_support(gold, predicted, average=None, zero_division=0)
    macro = precision_recall_fscore_support(gold, predicted, average="macro", zero_division=0)
    micro = precision_recall_fscore_support(gold, predicted, average="micro", zero_division=0)
    return {
        "macro_f1": float(macro[2]),
        "micro_f1": float(micro[2]),
        "per_label": {label: {"precision": float(p[j]), "recall": float(r[j]),
                              "f1": float(f[j]), "support": int(s[j])}
                      for j, label in enumerate(labels)},
        "abstain_rate": float((~predicted.any(axis=1)).mean()) if len(predicted) else 0.0,
    }


def expected_calibration_error(confidence: NDArray[np.floating[Any]],
                               correct: NDArray[np.bool_], bins: int = 10) -> float:
    """ECE: sum over equal-width confidence bins of |accuracy - mean confidence| x bin share."""
    confidence = np.asarray(confidence, dtype=float).ravel()
    correct = np.asarray(correct, dtype=bool).ravel()
    if confidence.size == 0:
        raise Errors.THM410.error()
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def brier_score(proba: Float2D, gold: Bool2D) -> float:
    """Mean squared error of per-label probabilities against 0/1 gold, over all cells."""
    return float(np.mean((np.asarray(proba, dtype=float) - gold.astype(float)) ** 2))


def confusion(gold: Bool2D, predicted: Bool2D) -> NDArray[np.int64]:
    """(L, L + 1) counts: rows = gold label, columns = predicted label, last column = the row
    got no label. A multi-label row counts once for every (gold, predicted) pair it holds."""
    g = gold.astype(np.int64)
    pairs = g.T @ predicted.astype(np.int64)
    none = g[~predicted.any(axis=1)].sum(axis=0)
    out: NDArray[np.int64] = np.concatenate([pairs, none[:, None]], axis=1)
    return out


def reliability_bins(confidence: NDArray[np.floating[Any]], correct: NDArray[np.bool_],
                     bins: int = 10) -> list[dict[str, float | int]]:
    """Per equal-width confidence bin: count, mean confidence, share correct (for the diagram)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows: list[dict[str, float | int]] = []
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": count,
                     "confidence": float(confidence[inside].mean()) if count else 0.0,
                     "accuracy": float(correct[inside].mean()) if count else 0.0})
    return rows


def coverage_curve(result: EvalResult, multi_label: bool,
                   cuts: Sequence[float] = tuple(np.round(np.arange(0.0, 0.96, 0.05), 2))
                   ) -> list[dict[str, float]]:
    """For each abstain threshold: share of rows that keep a label, and precision of the kept
    labels (top label only for single-label decisions)."""
    proba, gold = result.proba, result.gold
    if not multi_label:
        top = proba.argmax(axis=1)
        keep = np.zeros(proba.shape, dtype=bool)
        keep[np.arange(len(top)), top] = True
        proba = np.where(keep, proba, -1.0)
    rows = []
    for cut in cuts:
        kept = proba >= cut
        n_kept = int(kept.sum())
        rows.append({"threshold": float(cut), "coverage": float(kept.any(axis=1).mean()),
                     "precision": float((kept & gold).sum() / n_kept) if n_kept else 1.0})
    return rows


def theme_nps_errors(gold: Bool2D, predicted: Bool2D, categories: Sequence[str],
                     labels: Sequence[str]) -> dict[str, Any]:
    """Per label: NPS of rows with the gold label vs with the predicted label, and the ranking
    agreement (Spearman) of theme impacts computed from gold vs from predicted tags."""
    # scipy (here and under themer.analytics.nps) loads on call: `themer --help` stays quick
    from scipy.stats import spearmanr

    from themer.analytics.nps import impact, nps

    cats = pd.Series(list(categories))
    counts = cats.value_counts()
    total = tuple(int(counts.get(c, 0)) for c in ("promoter", "passive", "detractor"))
    per_label: dict[str, dict[str, float | None]] = {}
    gold_impacts, pred_impacts = [], []
    for j, label in enumerate(labels):
        row: dict[str, float | None] = {"gold_nps": None, "pred_nps": None, "abs_error": None}
        impacts = []
        for key, mask in (("gold_nps", gold[:, j]), ("pred_nps", predicted[:, j])):
            if mask.any():
                group = cats[mask].value_counts()
                theme = tuple(int(group.get(c, 0)) for c in ("promoter", "passive", "detractor"))
                row[key] = nps(*theme)
                impacts.append(impact(theme, total))  # type: ignore[arg-type]
            else:
                impacts.append(0.0)
        if row["gold_nps"] is not None and row["pred_nps"] is not None:
            row["abs_error"] = abs(row["gold_nps"] - row["pred_nps"])
        gold_impacts.append(impacts[0])
        pred_impacts.append(impacts[1])
        per_label[label] = row
    errors = [r["abs_error"] for r in per_label.values() if r["abs_error"] is not None]
    # Spearman is undefined for fewer than two labels or a constant ranking (e.g. majority).
    defined = len(labels) > 1 and np.ptp(gold_impacts) > 0 and np.ptp(pred_impacts) > 0
    rho = spearmanr(gold_impacts, pred_impacts).statistic if defined else float("nan")
    return {
        "theme_nps": per_label,
        "theme_nps_median_abs_error": float(np.median(errors)) if errors else None,
        "impact_rank_spearman": None if np.isnan(rho) else float(rho),
    }


def summarize(result: EvalResult, mode: str, multi_label: bool,
              categories: Sequence[str] | None = None) -> dict[str, Any]:
    """The stable JSON of an evaluation (keys documented in the README)."""
    out: dict[str, Any] = {"n": len(result.gold), "mode": mode, "labels": result.labels}
    out.update(label_scores(result.gold, result.predicted, result.labels))
    if multi_label:
        confidence, correct = result.proba.ravel(), result.gold.ravel()
    else:  # top-1 confidence vs whether the top label is right
        top = result.proba.argmax(axis=1)
        confidence = result.proba[np.arange(len(top)), top]
        correct = result.gold[np.arange(len(top)), top]
    out["ece"] = expected_calibration_error(confidence, correct)
    out["brier"] = brier_score(result.proba, result.gold)
    out["confusion"] = {"gold": result.labels, "predicted": [*result.labels, "(none)"],
                        "counts": confusion(result.gold, result.predicted).tolist()}
    out["reliability"] = reliability_bins(np.asarray(confidence, dtype=float),
                                          np.asarray(correct, dtype=bool))
    out["coverage"] = coverage_curve(result, multi_label)
    if categories is not None:
        out.update(theme_nps_errors(result.gold, result.predicted, categories, result.labels))
    return out
