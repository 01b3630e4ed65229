"""Scorers that turn statement vectors into per-label confidences, and the decision rule.

* ``PrototypeScorer``: zero-shot, from each label's description and seed phrases.
* ``LinearHead``: a trained one-vs-rest logistic head with Platt calibration, saved as
  ``head.npz`` (arrays) + ``head.json`` (metadata) -- never pickle.

Both expose ``classes_`` and ``predict_proba(X) -> (n, L)`` in [0, 1]; ``assign`` applies the
decision rule (multi-label for areas, one label for types, "unassigned" below the bar).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from themer.errors import Errors
from themer.schema import UNASSIGNED

__all__ = [
    "UNASSIGNED",
    "DecisionRule",
    "LexicalFeatures",
    "LinearHead",
    "PrototypeScorer",
    "assign",
    "f1_optimal_thresholds",
    "rule_for_head",
]

Matrix = NDArray[np.float32]
HEAD_FORMAT = "themer.linear_head.v2"  # v2: optional lexical (TF-IDF) features
HEAD_FORMAT_V1 = "themer.linear_head.v1"


def _sigmoid(x: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    out: NDArray[np.float32] = (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)
    return out  # tanh form: no overflow warnings for large |x|


def _check_fitted(estimator: object, attribute: str) -> None:
    if not hasattr(estimator, attribute):
        raise Errors.THM306.error(estimator=type(estimator).__name__)


class PrototypeScorer:
    """Zero-shot scorer: similarity to each label's prototypes, relative to the best label.

    score_j = (1 - ew - nw) * cos(x, centroid_j) + ew * max_k cos(x, example_jk)
              + nw * cos(x, name_j)
    where centroid_j is the mean of the label's description and examples and name_j the label's
    name in a template; score_j = -1 when x is nearer one of the label's counter-examples
    (look-alikes that are not the label) than to all of its own prototypes.
    confidence_j = logistic((score_j - bar_j(x)) / temperature) with
    bar_j(x) = max(threshold_j, best score of the OTHER labels - margin): 0.5 means "above the
    label's threshold and within ``margin`` of the best label" (for the best label: ahead of
    the runner-up), and the best label's confidence grows with its lead. Every parameter was
    chosen on the public labelled sets, cross-validated across them (eval/README.md). These
    confidences are a
    monotone map of similarity, not calibrated probabilities; a trained head (``themer train``)
    gives calibrated ones.
    """

    def __init__(self, *, threshold: float = 0.15, temperature: float = 0.05,
                 example_weight: float = 0.0, name_weight: float = 0.0,
                 margin: float = 0.03) -> None:
        if not (example_weight >= 0.0 and name_weight >= 0.0
                and example_weight + name_weight <= 1.0) or margin < 0 or temperature <= 0:
            raise ValueError("weights >= 0 summing to <= 1, margin >= 0, temperature > 0")
        self.threshold = threshold
        self.temperature = temperature
        self.example_weight = example_weight
        self.name_weight = name_weight
        self.margin = margin

    def fit(self, label_vectors: Sequence[Matrix], classes: Sequence[str],
            thresholds: Sequence[float | None] | None = None, *,
            names: Matrix | None = None,
            counter_vectors: Sequence[Matrix] | None = None) -> Self:
        """``label_vectors[i]``: rows = [description, *examples] of label i, L2-normalised;
        ``names``: one row per label (its name in a template); ``counter_vectors[i]``: the
        label's counter-examples (may have no rows)."""
        if len(label_vectors) != len(classes) or not classes:
            raise Errors.THM307.error()
        dim = label_vectors[0].shape[1]
        centroids = np.stack([v.mean(axis=0) for v in label_vectors]).astype(np.float32)
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        self.classes_ = np.asarray(classes)
        self.centroids_ = centroids
        self.examples_, self.example_starts_ = _blocks(label_vectors, dim)
        self.names_ = (np.zeros((len(classes), dim), dtype=np.float32) if names is None
                       else np.asarray(names, dtype=np.float32))
        counters = list(counter_vectors or [np.zeros((0, dim), np.float32)] * len(classes))
        if len(counters) != len(classes) or len(self.names_) != len(classes):
            raise Errors.THM307.error()
        self.has_counters_ = np.asarray([len(c) > 0 for c in counters])
        # A label without counter-examples gets one impossible row, so every block is non-empty.
        padded = [c if len(c) else np.full((1, dim), np.nan, np.float32) for c in counters]
        self.counters_, self.counter_starts_ = _blocks(padded, dim)
        given = thresholds or [None] * len(classes)
        self.thresholds_ = np.asarray(
            [self.threshold if t is None else t for t in given], dtype=np.float32
        )
        return self

    def decision_function(self, X: Matrix) -> Matrix:
        _check_fitted(self, "centroids_")
        to_centroid = X @ self.centroids_.T
        best_example = np.maximum.reduceat(X @ self.examples_.T, self.example_starts_, axis=1)
        ew, nw = np.float32(self.example_weight), np.float32(self.name_weight)
        scores: Matrix = ((1 - ew - nw) * to_centroid + ew * best_example
                          + nw * (X @ self.names_.T)).astype(np.float32)
        if self.has_counters_.any():
            to_counter = np.nan_to_num(X @ self.counters_.T, nan=-2.0)
            nearest = np.maximum.reduceat(to_counter, self.counter_starts_, axis=1)
            own = np.maximum(to_centroid, best_example)
            # A veto, not a nudge: a text nearer a look-alike than the label's own prototypes
            # is not that label, however close the look-alike is to the label.
            scores = np.where(nearest > own, np.float32(-1.0), scores)
        return scores

    def predict_proba(self, X: Matrix, texts: Sequence[str] | None = None) -> Matrix:
        """``texts`` is accepted for a common interface with heads and not used."""
        scores = self.decision_function(X)
        if scores.shape[1] < 2:
            return _sigmoid((scores - self.thresholds_) / self.temperature)
        # Each label is measured against the best OTHER label: the winner's confidence grows
        # with its lead over the runner-up, a loser's is >= 0.5 only within the margin.
        top2 = -np.partition(-scores, 1, axis=1)[:, :2]
        is_best = scores >= top2[:, :1]
        rival = np.where(is_best, top2[:, 1:2], top2[:, :1])
        bars = np.maximum(self.thresholds_[None, :], rival - np.float32(self.margin))
        return _sigmoid((scores - bars) / self.temperature)


def _blocks(vectors: Sequence[Matrix], dim: int) -> tuple[Matrix, NDArray[np.intp]]:
    """Rows of all blocks stacked, and where each block starts (for ``np.maximum.reduceat``)."""
    stacked = (np.concatenate(list(vectors)).astype(np.float32) if vectors
               else np.zeros((0, dim), np.float32))
    return stacked, np.cumsum([0] + [len(v) for v in vectors[:-1]]).astype(np.intp)


class LexicalFeatures:
    """TF-IDF of word 1-2 grams, rebuilt from plain arrays (terms + idf), never from pickle.

    Gives a head the words themselves: labels named by a keyword ("battery", "refund", a stack
    trace) are found from the text more reliably than from a 384-d sentence vector.
    """

    def __init__(self, terms: Sequence[str], idf: NDArray[np.floating[Any]]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.terms = list(terms)
        self.idf = np.asarray(idf, dtype=np.float32)
        self._vectorizer = TfidfVectorizer(**LEXICAL_OPTIONS,
                                           vocabulary={t: i for i, t in enumerate(self.terms)})
        self._vectorizer.idf_ = self.idf

    @classmethod
    def fit(cls, texts: Sequence[str], max_terms: int) -> LexicalFeatures:
        from sklearn.feature_extraction.text import TfidfVectorizer

        # min_df=2: a term seen once cannot generalise and only memorises its row.
        fitted = TfidfVectorizer(**LEXICAL_OPTIONS, min_df=2 if len(texts) > 50 else 1,
                                 max_features=max_terms).fit(_lexical_texts(texts))
        return cls(fitted.get_feature_names_out().tolist(), fitted.idf_)

    def transform(self, texts: Sequence[str]) -> Any:
        return self._vectorizer.transform(_lexical_texts(texts))


LEXICAL_OPTIONS: dict[str, Any] = {"ngram_range": (1, 2), "sublinear_tf": True,
                                   "dtype": np.float32}


def _lexical_texts(texts: Sequence[str]) -> list[str]:
    # The same normalisation as the embedding cache key, so equal texts get equal features.
    return [" ".join(unicodedata.normalize("NFKC", t).split()) for t in texts]


class LinearHead:
    """One-vs-rest logistic head, Platt-calibrated out of fold, with per-label F1-optimal cuts.

    Features: the frozen sentence embedding (scaled by ``embedding_scale``) and, when
    ``lexical`` (the default), the TF-IDF of the text's words, so ``fit`` and ``predict_proba``
    then need the texts next to their vectors.
    """

    def __init__(self, *, C: float | None = None, cv: int = 5, random_state: int = 0,
                 lexical: bool = True, embedding_scale: float = 0.5,
                 max_terms: int = 20_000) -> None:
        # Defaults chosen with eval/bench/head_variants.py (numbers in eval/README.md).
        self.C = C if C is not None else (3.0 if lexical else 1.0)
        self.cv = cv
        self.random_state = random_state
        self.lexical = lexical
        self.embedding_scale = embedding_scale if lexical else 1.0
        self.max_terms = max_terms

    def _features(self, X: Matrix, texts: Sequence[str] | None) -> Any:
        if not self.lexical:
            return X
        if texts is None or len(texts) != len(X):
            raise Errors.THM320.error()
        from scipy.sparse import csr_matrix, hstack

        return hstack([csr_matrix(X * np.float32(self.embedding_scale)),
                       self.lexical_.transform(texts)], format="csr")

    def fit(self, X: Matrix, Y: NDArray[np.bool_], classes: Sequence[str],
            texts: Sequence[str] | None = None) -> Self:
        """``Y``: (n, L) indicator matrix (one True per row for single-label sets)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        if self.lexical:
            if texts is None:
                raise Errors.THM320.error()
            self.lexical_ = LexicalFeatures.fit(texts, self.max_terms)
        features = self._features(X, texts)
        n_labels = len(classes)
        coef = np.zeros((n_labels, features.shape[1]), dtype=np.float64)
        intercept = np.zeros(n_labels)
        platt_a = np.ones(n_labels)
        platt_b = np.zeros(n_labels)
        oof = np.zeros((X.shape[0], n_labels))
        for j in range(n_labels):
            y = Y[:, j].astype(int)
            if y.min() == y.max():
                raise Errors.THM308.error(label=classes[j], amount="no" if y.max() == 0 else "only")
            model = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000)
            folds = min(self.cv, int(y.sum()), int((1 - y).sum()))
            if folds >= 2:
                splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
                scores = cross_val_predict(model, features, y, cv=splitter,
                                           method="decision_function")
                platt = LogisticRegression(C=1e6, max_iter=1000).fit(scores[:, None], y)
                platt_a[j], platt_b[j] = float(platt.coef_[0, 0]), float(platt.intercept_[0])
                oof[:, j] = scores * platt_a[j] + platt_b[j]
            model.fit(features, y)
            coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
        self.classes_ = np.asarray(classes)
        self.coef_ = coef.astype(np.float32)
        self.intercept_ = intercept.astype(np.float32)
        self.platt_a_ = platt_a.astype(np.float32)
        self.platt_b_ = platt_b.astype(np.float32)
        self.oof_proba_ = _sigmoid(oof)
        # Labels without out-of-fold scores (too few rows to split) keep the neutral 0.5 cut.
        self.thresholds_ = np.where(
            oof.any(axis=0), f1_optimal_thresholds(self.oof_proba_, Y.astype(bool)), 0.5
        ).astype(np.float32)
        return self

    def predict_proba(self, X: Matrix, texts: Sequence[str] | None = None) -> Matrix:
        _check_fitted(self, "coef_")
        features = self._features(X, texts)
        if features.shape[1] != self.coef_.shape[1]:
            raise Errors.THM321.error(expected=self.coef_.shape[1], got=features.shape[1])
        logits = np.asarray(features @ self.coef_.T) + self.intercept_
        return _sigmoid(logits * self.platt_a_ + self.platt_b_)

    def save(self, folder: str | Path, meta: dict[str, Any]) -> None:
        """Write ``head.npz`` + ``head.json`` (atomically: temp files, then rename)."""
        _check_fitted(self, "coef_")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = folder / "head.npz.tmp"
        with arrays.open("wb") as handle:
            saved: dict[str, Any] = {"coef": self.coef_, "intercept": self.intercept_,
                                     "platt_a": self.platt_a_, "platt_b": self.platt_b_}
            if self.lexical:
                saved["idf"] = self.lexical_.idf
            np.savez(handle, **saved)
        info = {**meta, "format": HEAD_FORMAT, "labels": self.classes_.tolist(),
                "params": {"C": self.C, "cv": self.cv, "random_state": self.random_state,
                           "lexical": self.lexical, "embedding_scale": self.embedding_scale,
                           "max_terms": self.max_terms},
                "lexical_terms": self.lexical_.terms if self.lexical else []}
        text = folder / "head.json.tmp"
        text.write_text(json.dumps(info, indent=2, sort_keys=True), encoding="utf-8")
        arrays.replace(folder / "head.npz")
        text.replace(folder / "head.json")

    @classmethod
    def load(cls, folder: str | Path) -> tuple[LinearHead, dict[str, Any]]:
        """Read a saved head; ``allow_pickle=False`` so a crafted file cannot run code."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / "head.json").read_text(encoding="utf-8"))
            with np.load(folder / "head.npz", allow_pickle=False) as data:
                arrays = {k: data[k] for k in ("coef", "intercept", "platt_a", "platt_b")}
                if meta.get("params", {}).get("lexical"):
                    arrays["idf"] = data["idf"]
        except (OSError, ValueError, KeyError) as exc:
            raise Errors.THM309.error(folder=folder, reason=exc) from None
        if meta.get("format") not in (HEAD_FORMAT, HEAD_FORMAT_V1):
            raise Errors.THM310.error(folder=folder, found=meta.get("format"))
        params = meta.get("params", {})
        head = cls(C=params.get("C", 1.0), cv=params.get("cv", 5),
                   random_state=params.get("random_state", 0),
                   lexical=bool(params.get("lexical", False)),
                   embedding_scale=params.get("embedding_scale", 1.0),
                   max_terms=params.get("max_terms", 20_000))
        if head.lexical:
            terms = meta.get("lexical_terms", [])
            if len(terms) != len(arrays["idf"]):
                raise Errors.THM311.error(folder=folder, what="the lexical terms")
            head.lexical_ = LexicalFeatures(terms, arrays["idf"])
        head.classes_ = np.asarray(meta["labels"])
        head.coef_ = arrays["coef"].astype(np.float32)
        head.intercept_ = arrays["intercept"].astype(np.float32)
        head.platt_a_ = arrays["platt_a"].astype(np.float32)
        head.platt_b_ = arrays["platt_b"].astype(np.float32)
        if head.coef_.shape[0] != len(head.classes_):
            raise Errors.THM311.error(folder=folder, what="the label count")
        return head, meta


@dataclass(frozen=True)
class DecisionRule:
    """How confidences become tags.

    multi_label: every label with confidence >= its bar (at most max_labels, best first);
    otherwise the single best label, if it clears its bar and beats the runner-up by margin.
    The bar is ``label_thresholds[j]`` when given (a trained head's per-label F1-optimal cut),
    else ``min_confidence``; "best" ranks confidence / bar, so a label with a low bar is not
    drowned by a frequent label with a high one.
    """

    multi_label: bool
    min_confidence: float = 0.5
    margin: float = 0.0
    max_labels: int = 3
    label_thresholds: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        bars = (self.min_confidence, *(self.label_thresholds or ()))
        if not all(0.0 <= bar <= 1.0 for bar in bars):
            raise ValueError("min_confidence and label_thresholds must be in [0, 1]")
        if self.max_labels < 1 or self.margin < 0:
            raise ValueError("max_labels >= 1 and margin >= 0 are required")

    def bars(self, n_labels: int) -> NDArray[np.float32]:
        if self.label_thresholds is None:
            return np.full(n_labels, self.min_confidence, dtype=np.float32)
        if len(self.label_thresholds) != n_labels:
            raise Errors.THM318.error(thresholds=len(self.label_thresholds), labels=n_labels)
        return np.asarray(self.label_thresholds, dtype=np.float32)


def assign(proba: Matrix, rule: DecisionRule) -> NDArray[np.bool_]:
    """(n, L) mask of the labels kept per row; an all-False row is unassigned. Vectorised."""
    n, n_labels = proba.shape
    if n_labels == 0 or n == 0:
        return np.zeros((n, n_labels), dtype=bool)
    bars = rule.bars(n_labels)
    # With one bar for all labels the ratio orders rows exactly like the confidences.
    key = proba / np.maximum(bars, np.float32(1e-6))
    # Stable sort: ties go to the label listed first, whatever the row order.
    order = np.argsort(-key, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_labels)[None, :].repeat(n, axis=0), axis=1)
    clears = proba >= bars
    if rule.multi_label:
        multi: NDArray[np.bool_] = clears & (rank < rule.max_labels)
        return multi
    best = np.take_along_axis(key, order[:, :1], axis=1)[:, 0]
    second = (np.take_along_axis(key, order[:, 1:2], axis=1)[:, 0] if n_labels > 1
              else np.zeros(n, dtype=key.dtype))
    # The margin is in confidence units at the winner's bar (plain p1 - p2 with one bar).
    wins = (best - second) * bars[order[:, 0]] >= rule.margin - 1e-6
    mask: NDArray[np.bool_] = clears & (rank == 0) & wins[:, None]
    return mask


def rule_for_head(rule: DecisionRule, meta: dict[str, Any]) -> DecisionRule:
    """The rule with a saved head's cut: per-label thresholds if stored, else one threshold."""
    per_label = meta.get("label_thresholds")
    if isinstance(per_label, dict):
        try:
            bars = tuple(float(per_label[label]) for label in meta["labels"])
        except (KeyError, TypeError, ValueError):
            raise Errors.THM319.error() from None
        return replace(rule, label_thresholds=bars)
    if "threshold" in meta:
        return replace(rule, min_confidence=float(meta["threshold"]), label_thresholds=None)
    return rule


def f1_optimal_thresholds(proba: Matrix, Y: NDArray[np.bool_],
                          grid: NDArray[np.floating[Any]] | None = None) -> NDArray[np.float32]:
    """Per label, the confidence cut in ``grid`` that maximises F1 on (proba, Y).

    Ties go to the highest cut (fewer, surer tags). Vectorised: (n, grid) per label.
    """
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2) if grid is None else np.asarray(grid)
    cuts = np.empty(Y.shape[1], dtype=np.float32)
    for j in range(Y.shape[1]):
        above = proba[:, j, None] >= grid[None, :]
        truth = Y[:, j, None]
        tp = (above & truth).sum(axis=0)
        f1 = 2 * tp / np.maximum(above.sum(axis=0) + truth.sum(), 1)
        cuts[j] = grid[len(grid) - 1 - int(np.argmax(f1[::-1]))]
    return cuts
