"""Cross-validation: seeded stratified folds, out-of-fold head predictions, baselines.

``cv_folds`` makes the (train, test) splits once so that the trained head (``predict_cv``) and
the baselines (majority class, TF-IDF + logistic regression) are scored on the same folds.
Every prediction of a row comes from a model that never saw it, with per-label cuts tuned on
the training folds only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from themer.analytics.quantify import ErrorCounts, error_counts
from themer.errors import Errors
from themer.evaluation.metrics import Bool2D, EvalResult, Float2D
from themer.evaluation.quantified import Part
from themer.nlp.classify import DecisionRule, LinearHead, assign, f1_optimal_thresholds

__all__ = ["Folds", "baseline_majority", "baseline_tfidf", "cv_folds", "predict_cv"]

Folds = Sequence[tuple[NDArray[np.intp], NDArray[np.intp]]]  # (train, test) row positions


def cv_folds(gold: Bool2D, k: int, random_state: int = 0) -> list[tuple[NDArray[np.intp],
                                                                         NDArray[np.intp]]]:
    """Stratified K-fold (seeded); (train, test) index pairs.

    Each row is stratified on its rarest gold label, so a label that is rare and always comes
    with a frequent one still spreads over the folds; strata smaller than K are pooled.
    """
    from sklearn.model_selection import StratifiedKFold

    if k < 2 or len(gold) < 2 * k:
        raise Errors.THM123.error(k=k, needed=2 * k, rows=len(gold))
    support = gold.sum(axis=0)
    rarity = np.where(gold, support[None, :], np.iinfo(np.int64).max)
    strata = rarity.argmin(axis=1)
    counts = np.bincount(strata, minlength=gold.shape[1])
    small = counts[strata] < k
    if small.any():
        strata[small] = gold.shape[1]  # one pooled stratum for all the small ones
        if small.sum() < k:  # still too small: join it to the largest stratum
            strata[small] = int(np.bincount(strata[~small]).argmax())
    splitter = StratifiedKFold(k, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(len(strata)), strata))


def predict_cv(vectors: Float2D, gold: Bool2D, labels: Sequence[str], rule: DecisionRule,
               k: int, random_state: int = 0,
               on_fold: Callable[[NDArray[np.intp], NDArray[np.intp]], None] | None = None,
               texts: Sequence[str] | None = None,
               folds: Folds | None = None,
               fold_errors: list[Part] | None = None,
               groups: NDArray[np.int64] | None = None,
               ) -> EvalResult:
    """Out-of-fold predictions: each row predicted by a head that never saw it.

    ``folds`` (from ``cv_folds(gold, k, random_state)``) lets a caller share them with the
    baselines; by default they are made here.

    Each fold decides as ``themer train`` ships a head: at the per-label cuts the head tuned
    on its own training rows (inner out-of-fold), never on the held-out fold.

    ``fold_errors``, when given, gets per fold (held-out rows, error counts per label) with
    the counts measured as ``themer train`` measures them: the fold's head's own out-of-fold
    decisions on its training rows, so correcting the held-out fold with them leaks nothing;
    with ``groups`` (each row's NPS group, 0 promoter, 1 passive, 2 detractor), also per group.
    """
    proba = np.zeros(gold.shape, dtype=np.float32)
    predicted = np.zeros(gold.shape, dtype=bool)
    # Without texts the head is the embedding-only one (what library callers with bare
    # vectors can train); themer train and themer eval always pass them.
    words = None if texts is None else np.asarray(texts, dtype=object)
    for train, test in folds if folds is not None else cv_folds(gold, k, random_state):
        if on_fold is not None:
            on_fold(train, test)
        # A label with no positive (or no negative) row in this training fold cannot be learnt:
        # its held-out probability stays 0 and it counts against recall.
        present = np.flatnonzero(gold[train].any(axis=0) & ~gold[train].all(axis=0))
        head = LinearHead(random_state=random_state, lexical=words is not None).fit(
            vectors[train], gold[train][:, present], [labels[int(j)] for j in present],
            None if words is None else words[train].tolist())
        proba[np.ix_(test, present)] = head.predict_proba(
            vectors[test], None if words is None else words[test].tolist())
        bars = np.full(len(labels), 1.0, dtype=np.float32)  # unlearnt labels: never predicted
        bars[present] = head.thresholds_
        fold_rule = replace(rule, label_thresholds=tuple(float(b) for b in bars))
        predicted[test] = assign(proba[test], fold_rule)
        if fold_errors is not None:
            learnt = [labels[int(j)] for j in present]
            inner = assign(head.oof_proba_, replace(rule, label_thresholds=tuple(
                float(t) for t in head.thresholds_)))
            pooled = error_counts(gold[train][:, present], inner, learnt)
            by_group: dict[str, list[ErrorCounts]] = {label: [] for label in learnt}
            for g in range(3 if groups is not None else 0):
                assert groups is not None
                rows = groups[train] == g
                for label, counts in error_counts(gold[train][rows][:, present], inner[rows],
                                                  learnt).items():
                    by_group[label].append(counts)
            fold_errors.append((test, pooled, by_group if groups is not None else {}))
    return EvalResult(list(labels), gold, proba, predicted)


def baseline_majority(gold: Bool2D, labels: Sequence[str], rule: DecisionRule,
                      folds: Folds) -> EvalResult:
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
                   rule: DecisionRule, folds: Folds, random_state: int = 0) -> EvalResult:
    """TF-IDF (word 1-2 grams) + class-balanced one-vs-rest logistic regression, same folds.

    Given the same per-label cut tuning as the head (inner out-of-fold F1 on the training
    folds), so the comparison is of representations, not of decision rules.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    array = np.asarray(texts, dtype=object)
    proba = np.zeros(gold.shape, dtype=np.float32)
    predicted = np.zeros(gold.shape, dtype=bool)
    for train, test in folds:
        bars = np.ones(gold.shape[1], dtype=np.float32)
        for j in range(gold.shape[1]):
            y = gold[train, j]
            if y.sum() < 2 or (~y).sum() < 2:
                continue
            model = make_pipeline(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                LogisticRegression(class_weight="balanced", max_iter=2000,
                                   random_state=random_state))
            inner = StratifiedKFold(min(5, int(y.sum())), shuffle=True,
                                    random_state=random_state)
            oof = cross_val_predict(model, array[train], y, cv=inner, method="predict_proba")
            bars[j] = f1_optimal_thresholds(oof[:, 1:].astype(np.float32), y[:, None])[0]
            proba[test, j] = model.fit(array[train], y).predict_proba(array[test])[:, 1]
        predicted[test] = assign(proba[test],
                                 replace(rule, label_thresholds=tuple(float(b) for b in bars)))
    return EvalResult(list(labels), gold, proba, predicted)
