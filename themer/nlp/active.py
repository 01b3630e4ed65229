"""The labelling loop's brain: which statements to ask about, and a head from few labels.

* ``choose_to_label``: the next ``k`` rows to label -- one likely example of every label not yet
  covered by the labels so far, then the most uncertain rows, kept diverse, never a
  near-duplicate of a labelled or an already chosen row.
* ``fit_labelled_head``: a :class:`~themer.nlp.classify.LinearHead` from very few labels, with
  the taxonomy's seed phrases (``SeedRows``) as extra rows so every label has a model.
* ``estimate_accuracy``: cross-validated macro-F1 on the labels so far, with a 95% interval.

Pure functions: no I/O, deterministic for the same inputs whatever the row order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from themer.nlp.classify import DecisionRule, LinearHead, assign

__all__ = [
    "SeedRows",
    "choose_to_label",
    "estimate_accuracy",
    "fit_labelled_head",
    "seed_rows",
]

Matrix = NDArray[np.float32]


@dataclass(frozen=True)
class SeedRows:
    """The taxonomy's description + examples of each label, embedded (one row per phrase)."""

    vectors: Matrix
    Y: NDArray[np.bool_]
    texts: list[str]


def seed_rows(phrases: Sequence[Sequence[str]], vectors: Matrix) -> SeedRows:
    """``phrases[j]``: label j's texts (description, *examples); ``vectors``: them, in order."""
    texts = [t for block in phrases for t in block]
    if len(texts) != len(vectors):
        raise ValueError("one vector per seed phrase is required")
    Y = np.zeros((len(texts), len(phrases)), dtype=bool)
    start = 0
    for j, block in enumerate(phrases):
        Y[start:start + len(block), j] = True
        start += len(block)
    return SeedRows(np.asarray(vectors, dtype=np.float32), Y, texts)


def _stable_order(keys: Sequence[str], seed: int) -> NDArray[np.intp]:
    """Row positions sorted by key (then by a seeded hash of the key, for equal keys)."""
    salted = [hashlib.blake2b(f"{seed}\x00{k}".encode(), digest_size=8).hexdigest()
              for k in keys]
    return np.asarray(sorted(range(len(keys)), key=lambda i: (keys[i], salted[i])),
                      dtype=np.intp)


def _uncertainty(proba: Matrix, bars: NDArray[np.float32],
                 weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """1 at a label's cut, 0 far from every cut: the most undecided label, weighted."""
    bars = np.clip(np.asarray(bars, dtype=np.float64), 1e-3, 1 - 1e-3)
    p = np.asarray(proba, dtype=np.float64)
    # Distance to the cut in units of the room on that side, so low cuts are not favoured.
    room = np.where(p >= bars, 1 - bars, bars)
    closeness = (1 - np.abs(p - bars) / room) * weights[None, :]
    out: NDArray[np.float64] = closeness.max(axis=1) if p.shape[1] else np.zeros(len(p))
    return out


# Tuned on maalej + panichella only (eval/README.md, learning curve): candidates per pick, the
# representativeness pool of a cold start, and how much labels seen less often count.
CANDIDATES_PER_PICK = 10
COLD_POOL = 20_000
RARE_WEIGHT = 0.5
COVERAGE_MEMBERS = 20


def choose_to_label(vectors: Matrix, proba: Matrix, bars: NDArray[np.float32],
                    labelled: NDArray[np.bool_], k: int, *, keys: Sequence[str],
                    seed: int = 0, duplicate_cosine: float = 0.95) -> list[int]:
    """Indices into ``vectors`` (n, d; L2-normalised) of the next ``k`` statements to label.

    ``proba`` (n, L): confidences of every label, ``bars`` (L,): each label's cut, ``labelled``
    (n,): already labelled. Best first: one likely row of each label no labelled row clears
    yet, then one row per cluster of the most uncertain rows (labels seen less often weigh
    more); with nothing labelled, one row per cluster of the whole pool. Near-duplicates
    (cosine >= ``duplicate_cosine``) of labelled or chosen rows are skipped. The same for any
    row order (rows are put in ``keys`` order first; ``seed`` seeds the clustering).
    """
    n = len(vectors)
    if len(proba) != n or len(labelled) != n or len(keys) != n:
        raise ValueError("vectors, proba, labelled and keys need one entry per row")
    if k <= 0 or n == 0:
        return []
    order = _stable_order(keys, seed)
    V = np.asarray(vectors, dtype=np.float32)[order]
    conf = np.asarray(proba, dtype=np.float32)[order]
    done = np.asarray(labelled, dtype=bool)[order]
    bars = np.asarray(bars, dtype=np.float32)
    free = ~done & ~_near_any(V, V[done], duplicate_cosine)
    chosen: list[int] = []
    for position in _coverage_picks(V, conf, bars, done, free):
        if len(chosen) < k and _take(position, V, chosen, free, duplicate_cosine):
            chosen.append(position)
    if len(chosen) < k and done.any():
        seen = ((conf >= bars) & done[:, None]).sum(axis=0)
        score = _uncertainty(conf, bars, (1.0 + seen) ** -RARE_WEIGHT)
    else:  # cold start: no confidences worth trusting, so representativeness only
        score = np.ones(n)
    for position in _diverse(V, score, free, k - len(chosen), seed):
        if len(chosen) < k and _take(position, V, chosen, free, duplicate_cosine):
            chosen.append(position)
    ranked = np.argsort(-score, kind="stable")
    for position in ranked[free[ranked]]:  # clusters lost to duplicates: next best rows
        if len(chosen) >= k:
            break
        if _take(int(position), V, chosen, free, duplicate_cosine):
            chosen.append(int(position))
    return [int(order[p]) for p in chosen]


def _diverse(V: Matrix, score: NDArray[np.float64], free: NDArray[np.bool_], k: int,
             seed: int) -> list[int]:
    """``k`` free rows, one per k-means cluster of the best-scored candidates, best first.

    Each cluster gives the candidate nearest its centre (a typical row, not an outlier).
    """
    if k <= 0 or not free.any():
        return []
    from sklearn.cluster import KMeans

    ranked = np.argsort(-score, kind="stable")
    ranked = ranked[free[ranked]]
    size = COLD_POOL if np.ptp(score[ranked]) == 0 else CANDIDATES_PER_PICK * k
    if size < len(ranked) and np.ptp(score[ranked]) == 0:  # equal scores: a seeded sample
        ranked = np.sort(np.random.default_rng(seed).choice(ranked, size, replace=False))
    candidates = ranked[:size]
    clusters = min(k, len(candidates))
    if clusters == len(candidates):
        return [int(c) for c in candidates]
    model = KMeans(clusters, n_init=1, random_state=seed).fit(
        V[candidates].astype(np.float64), sample_weight=np.maximum(score[candidates], 1e-6))
    distance = np.linalg.norm(V[candidates] - model.cluster_centers_[model.labels_], axis=1)
    picks = []
    for c in range(clusters):
        members = np.flatnonzero(model.labels_ == c)
        if len(members):
            picks.append(int(candidates[members[np.argmin(distance[members])]]))
    return sorted(picks, key=lambda p: (-score[p], p))


def _near_any(V: Matrix, others: Matrix, cosine: float, block: int = 8192) -> NDArray[np.bool_]:
    near = np.zeros(len(V), dtype=bool)
    if len(others) == 0:
        return near
    for start in range(0, len(V), block):
        near[start:start + block] = (V[start:start + block] @ others.T >= cosine).any(axis=1)
    return near


def _take(position: int, V: Matrix, chosen: list[int], free: NDArray[np.bool_],
          cosine: float) -> bool:
    if not free[position]:
        return False
    free[position] = False
    return not (chosen and float((V[chosen] @ V[position]).max()) >= cosine)


def _coverage_picks(V: Matrix, conf: Matrix, bars: NDArray[np.float32], done: NDArray[np.bool_],
                    free: NDArray[np.bool_]) -> list[int]:
    """For each label that no labelled row clears, a typical free row likely to carry it.

    Typical: of the free rows the label wins (clears its bar and ranks first; if none, the
    label's 20 surest rows), the one nearest their mean direction -- the surest row alone is
    often a near-copy of a seed phrase, which teaches the head little.
    """
    clears = conf >= bars
    covered = (clears & done[:, None]).any(axis=0)
    ratio = conf / np.maximum(bars, np.float32(1e-6))
    wins = clears & (ratio >= ratio.max(axis=1, keepdims=True))
    picks: list[int] = []
    for j in np.flatnonzero(~covered):
        open_rows = free.copy()
        open_rows[picks] = False
        members = np.flatnonzero(open_rows & wins[:, j])
        if not len(members):
            ranked = np.argsort(-np.where(open_rows, ratio[:, j], -np.inf), kind="stable")
            members = ranked[:min(COVERAGE_MEMBERS, int(open_rows.sum()))]
        if len(members):
            picks.append(int(members[np.argmax(V[members] @ V[members].mean(axis=0))]))
    return picks


def fit_labelled_head(X: Matrix, Y: NDArray[np.bool_], classes: Sequence[str],
                      texts: Sequence[str], *, seeds: SeedRows | None = None,
                      random_state: int = 0) -> LinearHead:
    """A LinearHead on the analyst's labels (+ the seed rows), valid with very few labels.

    A label with no positive (or only positives) even with the seeds gets a constant model
    (confidence ~0, or ~1) instead of THM308. Saved and loaded like any head.
    """
    X = np.asarray(X, dtype=np.float32)
    Y = np.asarray(Y, dtype=bool)
    all_texts = list(texts)
    if seeds is not None and len(seeds.texts):
        X = np.concatenate([X, seeds.vectors.astype(np.float32)])
        Y = np.concatenate([Y, seeds.Y.astype(bool)])
        all_texts += list(seeds.texts)
    positives = Y.sum(axis=0)
    trainable = np.flatnonzero((positives > 0) & (positives < len(Y)))
    head = LinearHead(random_state=random_state)
    if len(trainable):
        head.fit(X, Y[:, trainable], [classes[int(j)] for j in trainable], all_texts)
    else:
        from themer.nlp.classify import LexicalFeatures

        head.lexical_ = LexicalFeatures.fit(all_texts, head.max_terms)
        head.oof_proba_ = np.zeros((len(Y), 0), dtype=np.float32)
    return _widen(head, X, Y, list(classes), trainable, all_texts)


def _widen(head: LinearHead, X: Matrix, Y: NDArray[np.bool_], classes: list[str],
           trainable: NDArray[np.intp], texts: list[str]) -> LinearHead:
    """Put the constant models of untrainable labels back in their columns."""
    n_labels = len(classes)
    width = head._features(X[:1], texts[:1]).shape[1]
    coef = np.zeros((n_labels, width), dtype=np.float32)
    intercept = np.where(Y.all(axis=0), 8.0, -8.0).astype(np.float32)
    platt_a = np.ones(n_labels, dtype=np.float32)
    platt_b = np.zeros(n_labels, dtype=np.float32)
    thresholds = np.full(n_labels, 0.5, dtype=np.float32)
    oof = np.where(Y, 1.0, 0.0).astype(np.float32)
    if len(trainable):
        coef[trainable] = head.coef_
        intercept[trainable] = head.intercept_
        platt_a[trainable] = head.platt_a_
        platt_b[trainable] = head.platt_b_
        thresholds[trainable] = head.thresholds_
        oof[:, trainable] = head.oof_proba_
    head.classes_ = np.asarray(classes)
    head.coef_, head.intercept_ = coef, intercept
    head.platt_a_, head.platt_b_ = platt_a, platt_b
    head.thresholds_, head.oof_proba_ = thresholds, oof
    return head


def _rule(Y: NDArray[np.bool_], thresholds: NDArray[np.float32],
          multi_label: bool | None) -> DecisionRule:
    if multi_label is None:  # one label on every row: the single-label rule, as themer eval
        multi_label = not (bool(len(Y)) and bool((Y.sum(axis=1) == 1).all()))
    return DecisionRule(multi_label=multi_label, min_confidence=0.5,
                        label_thresholds=tuple(float(t) for t in np.clip(thresholds, 0, 1)))


def _macro_f1(Y: NDArray[np.bool_], predicted: NDArray[np.bool_]) -> float:
    tp = (Y & predicted).sum(axis=0)
    denominator = Y.sum(axis=0) + predicted.sum(axis=0)
    present = Y.any(axis=0)
    if not present.any():
        return 0.0
    f1 = np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
    return float(f1[present].mean())


def _folds(Y: NDArray[np.bool_], folds: int, seed: int) -> NDArray[np.intp]:
    """Fold of each row: rows ordered by their rarest label, then dealt round-robin."""
    rng = np.random.default_rng(seed)
    support = Y.sum(axis=0)
    rarest = np.where(Y, support[None, :], np.iinfo(np.int64).max).argmin(axis=1)
    jitter = rng.random(len(Y))
    order = np.lexsort((jitter, rarest))
    fold = np.empty(len(Y), dtype=np.intp)
    fold[order] = np.arange(len(Y)) % folds
    return fold


def estimate_accuracy(X: Matrix, Y: NDArray[np.bool_], classes: Sequence[str],
                      texts: Sequence[str], *, seeds: SeedRows | None = None, folds: int = 5,
                      seed: int = 0, multi_label: bool | None = None
                      ) -> dict[str, float | int]:
    """Cross-validated macro-F1 of ``fit_labelled_head`` on the labels so far, 95% interval.

    Returns {"macro_f1", "ci_low", "ci_high", "n_labels", "folds"}; the interval is a
    percentile bootstrap over the out-of-fold rows (1000 draws, seeded). ``multi_label``: the
    decision rule (None: single-label when every row has exactly one label). Deterministic.
    """
    X = np.asarray(X, dtype=np.float32)
    Y = np.asarray(Y, dtype=bool)
    n = len(Y)
    used = min(folds, n)
    if used < 2:
        return {"macro_f1": 0.0, "ci_low": 0.0, "ci_high": 1.0, "n_labels": n, "folds": 0}
    fold = _folds(Y, used, seed)
    predicted = np.zeros_like(Y)
    for f in range(used):
        test = fold == f
        train = ~test
        head = fit_labelled_head(X[train], Y[train], classes,
                                 [t for t, keep in zip(texts, train, strict=True) if keep],
                                 seeds=seeds, random_state=seed)
        test_texts = [t for t, keep in zip(texts, test, strict=True) if keep]
        proba = head.predict_proba(X[test], test_texts)
        predicted[test] = assign(proba, _rule(Y, head.thresholds_, multi_label))
    estimate = _macro_f1(Y, predicted)
    rng = np.random.default_rng(seed)
    draws = [_macro_f1(Y[rows], predicted[rows]) for rows in rng.integers(0, n, (1000, n))]
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"macro_f1": estimate, "ci_low": min(float(low), estimate),
            "ci_high": max(float(high), estimate), "n_labels": n, "folds": used}
