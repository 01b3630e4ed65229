"""Offline evaluation: how right are the tags, and how much does tagging error move theme NPS.

Pure metric functions (arrays in, numbers out) plus ``evaluate`` which runs one mode:
``zero-shot`` (taxonomy prototypes), ``head`` (a trained head) or ``cv`` (stratified K-fold:
train a head on K-1 folds, predict the held-out fold, score the pooled predictions).
Gold and predicted labels are indicator matrices (n, L) over one label list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import spearmanr
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from themer.classify import DecisionRule, LinearHead, assign
from themer.embed import CachedEncoder
from themer.errors import InputFileError, StatsError
from themer.io import SCALES
from themer.stats.nps import impact, nps
from themer.tagger import DEFAULT_RULES, prototype_scorer
from themer.taxonomy import LabelKind, TaxonomyInfo
from themer.training import DEFAULT_HEAD_THRESHOLD, label_matrix

__all__ = [
    "EvalResult",
    "brier_score",
    "cv_folds",
    "evaluate_table",
    "expected_calibration_error",
    "label_scores",
    "scorer_result",
    "theme_nps_errors",
]

Bool2D = NDArray[np.bool_]
Float2D = NDArray[np.float32]


def label_scores(gold: Bool2D, predicted: Bool2D, labels: Sequence[str]) -> dict[str, Any]:
    """Macro/micro F1 and per-label precision, recall, F1, support (scikit-learn definitions)."""
    if gold.shape != predicted.shape or gold.shape[1] != len(labels):
        raise StatsError("gold and predicted must both be (n, labels)", code="THM409")
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
        raise StatsError("ECE needs at least one prediction", code="THM410")
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


def cv_folds(gold: Bool2D, k: int, random_state: int = 0) -> list[tuple[NDArray[np.intp],
                                                                         NDArray[np.intp]]]:
    """Stratified K-fold on each row's first gold label (seeded); (train, test) index pairs."""
    first = gold.argmax(axis=1)
    smallest = int(np.bincount(first).min())
    if k < 2 or smallest < k:
        raise InputFileError(f"--cv {k}: every label needs at least {k} rows as a first label "
                             f"(the rarest has {smallest}); use a smaller K.", code="THM123")
    splitter = StratifiedKFold(k, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(len(first)), first))


def theme_nps_errors(gold: Bool2D, predicted: Bool2D, categories: Sequence[str],
                     labels: Sequence[str]) -> dict[str, Any]:
    """Per label: NPS of rows with the gold label vs with the predicted label, and the ranking
    agreement (Spearman) of theme impacts computed from gold vs from predicted tags."""
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


@dataclass(frozen=True)
class EvalResult:
    """Pooled predictions of one evaluation run."""

    labels: list[str]
    gold: Bool2D
    proba: Float2D
    predicted: Bool2D


def predict_cv(vectors: Float2D, gold: Bool2D, labels: Sequence[str], rule: DecisionRule,
               k: int, random_state: int = 0,
               on_fold: Callable[[NDArray[np.intp], NDArray[np.intp]], None] | None = None
               ) -> EvalResult:
    """Out-of-fold predictions: each row predicted by a head that never saw it."""
    proba = np.zeros(gold.shape, dtype=np.float32)
    for train, test in cv_folds(gold, k, random_state):
        if on_fold is not None:
            on_fold(train, test)
        # A label with no positive (or no negative) row in this training fold cannot be learnt:
        # its held-out probability stays 0 and it counts against recall.
        present = np.flatnonzero(gold[train].any(axis=0) & ~gold[train].all(axis=0))
        head = LinearHead(random_state=random_state).fit(
            vectors[train], gold[train][:, present], [labels[int(j)] for j in present])
        proba[np.ix_(test, present)] = head.predict_proba(vectors[test])
    return EvalResult(list(labels), gold, proba, assign(proba, rule))


def baseline_majority(gold: Bool2D, labels: Sequence[str], rule: DecisionRule,
                      folds: Sequence[tuple[NDArray[np.intp], NDArray[np.intp]]]) -> EvalResult:
    """Every held-out row gets the training folds' label frequencies as probabilities."""
    proba = np.zeros(gold.shape, dtype=np.float32)
    for train, test in folds:
        proba[test] = gold[train].mean(axis=0)
    # The majority label always wins; multi-label sets keep labels above half the rows.
    predicted = np.zeros(gold.shape, dtype=bool)
    predicted[np.arange(len(gold)), proba.argmax(axis=1)] = True
    if rule.multi_label:
        predicted |= proba >= 0.5
    return EvalResult(list(labels), gold, proba, predicted)


def baseline_tfidf(texts: Sequence[str], gold: Bool2D, labels: Sequence[str],
                   rule: DecisionRule,
                   folds: Sequence[tuple[NDArray[np.intp], NDArray[np.intp]]],
                   random_state: int = 0) -> EvalResult:
    """TF-IDF (word 1-2 grams) + class-balanced one-vs-rest logistic regression, same folds."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    array = np.asarray(texts, dtype=object)
    proba = np.zeros(gold.shape, dtype=np.float32)
    for train, test in folds:
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        X_train = vectorizer.fit_transform(array[train])
        X_test = vectorizer.transform(array[test])
        for j in range(gold.shape[1]):
            y = gold[train, j]
            if y.min() == y.max():
                continue
            model = LogisticRegression(class_weight="balanced", max_iter=2000,
                                       random_state=random_state).fit(X_train, y)
            proba[test, j] = model.predict_proba(X_test)[:, 1]
    return EvalResult(list(labels), gold, proba, assign(proba, rule))


def scorer_result(scorer: Any, vectors: Float2D, gold: Bool2D, labels: Sequence[str],
                  rule: DecisionRule) -> EvalResult:
    """Predictions of a fitted scorer, restricted to the gold label list.

    The decision sees every label the scorer knows (as in tagging), then the columns of gold's
    labels are kept; a gold label the scorer lacks gets probability 0 and is never predicted.
    """
    classes = list(scorer.classes_)
    full = scorer.predict_proba(vectors)
    decided = assign(full, rule)
    proba = np.zeros(gold.shape, dtype=np.float32)
    predicted = np.zeros(gold.shape, dtype=bool)
    for j, label in enumerate(labels):
        if label in classes:
            proba[:, j] = full[:, classes.index(label)]
            predicted[:, j] = decided[:, classes.index(label)]
    return EvalResult(list(labels), gold, proba, predicted)


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
    if categories is not None:
        out.update(theme_nps_errors(result.gold, result.predicted, categories, result.labels))
    return out


def evaluate_table(
    frame: pd.DataFrame, *, text_col: str, label_col: str, labels_sep: str | None,
    kind: LabelKind, taxonomy: TaxonomyInfo, encoder: CachedEncoder, source: str,
    head_dir: Path | None = None, cv: int | None = None, score_col: str | None = None,
    scale: str = "nps", random_state: int = 0, baselines: bool = False,
) -> dict[str, Any]:
    """Score one mode on a labelled table; the returned dict is ``themer eval``'s JSON."""
    if baselines and cv is None:  # before any embedding work
        raise InputFileError("--baselines needs --cv K (baselines train on the same folds).",
                             code="THM127")
    for column in (text_col, label_col, *([score_col] if score_col else [])):
        if column not in frame.columns:
            raise InputFileError(f"{source}: column '{column}' not found; columns are "
                                 f"{list(frame.columns)}.", code="THM113")
    gold, labels, kept = label_matrix(frame, label_col, labels_sep or "", taxonomy.taxonomy
                                      .label_ids(kind), source)
    if len(kept) == 0:
        raise InputFileError(f"{source}: no row has a gold label in '{label_col}'.",
                             code="THM124")
    vectors = encoder.encode(frame[text_col].iloc[kept].astype(str).tolist())
    rule = DEFAULT_RULES[kind]
    if cv is not None:
        mode = f"cv{cv}"
        # Heads decide at the threshold `themer train` stores, so CV measures what ships.
        rule = replace(rule, min_confidence=DEFAULT_HEAD_THRESHOLD[kind])
        result = predict_cv(vectors, gold, labels, rule, cv, random_state)
    else:
        if head_dir is not None:
            scorer: Any
            scorer, meta = LinearHead.load(head_dir)
            rule = replace(rule, min_confidence=meta.get("threshold", rule.min_confidence))
            mode = f"head:{Path(head_dir).name}"
        else:
            scorer = prototype_scorer(taxonomy, kind, encoder)
            mode = "zero-shot"
        result = scorer_result(scorer, vectors, gold, labels, rule)
    categories = None
    if score_col is not None:
        mapping = SCALES[scale]
        raw = pd.to_numeric(frame[score_col].iloc[kept], errors="coerce")
        bad = [kept[i] for i, v in enumerate(raw) if pd.isna(v) or int(v) not in mapping]
        if bad:
            raise InputFileError(f"{source}, row {bad[0] + 2}, column '{score_col}': not a "
                                 f"score on the '{scale}' scale ({len(bad)} such rows).",
                                 code="THM125")
        categories = [mapping[int(v)] for v in raw]
    out = summarize(result, mode, rule.multi_label, categories)
    out["skipped_without_gold"] = int(len(frame) - len(kept))
    if baselines:
        assert cv is not None  # checked on entry
        folds = cv_folds(gold, cv, random_state)
        texts = frame[text_col].iloc[kept].astype(str).tolist()
        runs = {
            "majority": baseline_majority(gold, labels, rule, folds),
            "tfidf_lr": baseline_tfidf(texts, gold, labels, rule, folds, random_state),
            "zero_shot": scorer_result(prototype_scorer(taxonomy, kind, encoder), vectors, gold,
                                       labels, DEFAULT_RULES[kind]),
        }
        out["baselines"] = {name: summarize(run, name, rule.multi_label, categories)
                            for name, run in runs.items()}
    return out
