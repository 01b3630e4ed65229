"""What else was tried for the trained head on a labelled set (issue 4's accuracy work).

Every variant is scored on themer's own CV folds (``cv_folds``), decides at per-label cuts tuned
by inner 5-fold CV on the training folds (as the shipped head does) and reports macro-F1:

  * shipped: frozen MiniLM review vector -> class-balanced logistic regression (C=1) + Platt;
  * C=0.5 / C=4; linear SVM (C=0.1) + Platt;
  * review vector + mean / max of its statements' vectors (statement splitting as features);
  * hybrid: review vector (x0.5) + TF-IDF 1-2 grams, C=3 (needs the text at scoring time).

    python eval/bench/head_variants.py [--set maalej]

The ratio printed is each variant's macro-F1 over the shipped head's, measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.accuracy import SETS, cached_encoder, load_labelled
from themer.config import Settings
from themer.evaluation.crossval import cv_folds
from themer.nlp.classify import f1_optimal_thresholds
from themer.nlp.split import StatementSplitter

Features = Callable[[np.ndarray, np.ndarray], tuple[Any, Any]]


def tuned_predictions(gold: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]],
                      features: Features, make: Callable[[], Any]) -> np.ndarray:
    predicted = np.zeros(gold.shape, dtype=bool)
    for train, test in folds:
        A, B = features(train, test)
        for j in range(gold.shape[1]):
            y = gold[train, j]
            if y.sum() < 5:
                continue
            inner = StratifiedKFold(5, shuffle=True, random_state=0)
            scores = cross_val_predict(make(), A, y, cv=inner, method="decision_function")
            platt = LogisticRegression(C=1e6).fit(scores[:, None], y)
            oof = platt.predict_proba(scores[:, None])[:, 1:].astype(np.float32)
            cut = f1_optimal_thresholds(oof, y[:, None])[0]
            model = make().fit(A, y)
            predicted[test, j] = platt.predict_proba(
                model.decision_function(B)[:, None])[:, 1] >= cut
    return predicted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", default="maalej", choices=[s.name for s in SETS])
    args = parser.parse_args()
    data = load_labelled(args.set)
    gold, texts = data.gold, np.asarray(data.texts, dtype=object)
    encoder = cached_encoder()
    X = encoder.encode(texts.tolist())
    spans = list(StatementSplitter(splitter=Settings().splitter).split_many(data.texts))
    owner = np.repeat(np.arange(len(texts)), [len(s) for s in spans])
    S = encoder.encode([span.text for comment in spans for span in comment])
    count = np.bincount(owner, minlength=len(X))[:, None]
    S_mean = np.zeros_like(X)
    np.add.at(S_mean, owner, S)
    S_mean = np.where(count > 0, S_mean / np.maximum(count, 1), X)
    S_max = X.copy()
    np.maximum.at(S_max, owner, S)
    folds = cv_folds(gold, 5)

    def dense(matrix: np.ndarray) -> Features:
        return lambda tr, te: (matrix[tr], matrix[te])

    def hybrid(tr: np.ndarray, te: np.ndarray) -> tuple[Any, Any]:
        tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2,
                                max_features=20_000)
        return (hstack([tfidf.fit_transform(texts[tr]), csr_matrix(0.5 * X[tr])]).tocsr(),
                hstack([tfidf.transform(texts[te]), csr_matrix(0.5 * X[te])]).tocsr())

    def lr(C: float) -> Callable[[], Any]:
        return lambda: LogisticRegression(C=C, class_weight="balanced", max_iter=3000)

    variants: list[tuple[str, Features, Callable[[], Any]]] = [
        ("shipped: LR C=1 on review vector", dense(X), lr(1.0)),
        ("LR C=0.5", dense(X), lr(0.5)),
        ("LR C=4", dense(X), lr(4.0)),
        ("linear SVM C=0.1", dense(X), lambda: LinearSVC(C=0.1, class_weight="balanced")),
        ("review + mean of statements", dense(np.hstack([X, S_mean])), lr(1.0)),
        ("review + max of statements", dense(np.hstack([X, S_max])), lr(1.0)),
        ("hybrid: 0.5 x review + TF-IDF, C=3", hybrid, lr(3.0)),
    ]
    baseline = None
    for name, features, make in variants:
        predicted = tuned_predictions(gold, folds, features, make)
        macro = f1_score(gold, predicted, average="macro", zero_division=0)
        baseline = baseline or macro
        per_label = np.round(f1_score(gold, predicted, average=None, zero_division=0), 3)
        print(f"{name:38s} macro-F1 {macro:.3f}  ratio {macro / baseline:.3f}  {per_label}",
              flush=True)


if __name__ == "__main__":
    main()
