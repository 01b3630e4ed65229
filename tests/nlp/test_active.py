"""The labelling loop's choices and its few-label head, on small synthetic vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from themer.nlp.active import (
    SeedRows,
    choose_to_label,
    estimate_accuracy,
    fit_labelled_head,
    seed_rows,
)
from themer.nlp.classify import LinearHead

CLASSES = ["bug", "feature", "praise"]
WORDS = ["crash error broken", "please add option", "great love nice"]


def _unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def _data(n: int = 120, seed: int = 0, noise: float = 0.6
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
    """(vectors, gold label index, proba, texts, keys): three clusters, one per label."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(CLASSES), 24))
    gold = np.arange(n) % len(CLASSES)
    vectors = _unit(centres[gold] + noise * rng.normal(size=(n, 24)))
    proba = (1 / (1 + np.exp(-4 * (vectors @ _unit(centres).T)))).astype(np.float32)
    texts = [f"{WORDS[g]} word{i % 11}" for i, g in enumerate(gold)]
    keys = [f"s{i:04d}" for i in range(n)]
    return vectors, gold, proba, texts, keys


def _seeds(rng_seed: int = 0) -> SeedRows:
    rng = np.random.default_rng(rng_seed)
    phrases = [[w, f"{w} again"] for w in WORDS]
    return seed_rows(phrases, _unit(rng.normal(size=(6, 24))))


BARS = np.full(len(CLASSES), 0.5, dtype=np.float32)


@pytest.mark.parametrize("n_labelled", [0, 9])
def test_choice_is_the_same_for_any_row_order(n_labelled: int) -> None:
    vectors, _, proba, _, keys = _data()
    labelled = np.zeros(len(keys), dtype=bool)
    labelled[:n_labelled] = True
    first = choose_to_label(vectors, proba, BARS, labelled, 10, keys=keys, seed=3)
    perm = np.random.default_rng(1).permutation(len(keys))
    again = choose_to_label(vectors[perm], proba[perm], BARS, labelled[perm], 10,
                            keys=[keys[i] for i in perm], seed=3)
    assert [keys[i] for i in first] == [keys[perm[i]] for i in again]


def test_near_duplicates_of_labelled_and_chosen_rows_are_skipped() -> None:
    vectors, _, proba, _, keys = _data(60)
    # Rows 60-89 copy rows 0-29 (the labelled ones and others), with a tiny jitter.
    jitter = np.random.default_rng(2).normal(scale=1e-3, size=(30, vectors.shape[1]))
    vectors = np.concatenate([vectors, _unit(vectors[:30] + jitter)])
    proba = np.concatenate([proba, proba[:30]])
    keys = keys + [f"copy{i:03d}" for i in range(30)]
    labelled = np.zeros(len(keys), dtype=bool)
    labelled[:10] = True
    chosen = choose_to_label(vectors, proba, BARS, labelled, 40, keys=keys)
    picked = vectors[chosen]
    cosine = picked @ picked.T
    assert (cosine[~np.eye(len(chosen), dtype=bool)] < 0.95).all()
    assert (picked @ vectors[labelled].T < 0.95).all()


@pytest.mark.parametrize("k", [0, 1, 5, 50, 500])
def test_k_is_respected_and_bounded(k: int) -> None:
    vectors, _, proba, _, keys = _data(60)
    labelled = np.zeros(60, dtype=bool)
    labelled[:20] = True
    chosen = choose_to_label(vectors, proba, BARS, labelled, k, keys=keys)
    assert len(chosen) == min(k, 40)
    assert len(set(chosen)) == len(chosen)
    assert all(0 <= i < 60 for i in chosen)


def test_labelled_rows_are_never_chosen() -> None:
    vectors, _, proba, _, keys = _data(60)
    labelled = np.random.default_rng(0).random(60) < 0.7
    chosen = choose_to_label(vectors, proba, BARS, labelled, 60, keys=keys)
    assert not labelled[chosen].any()
    assert len(chosen) == int((~labelled).sum())


def test_every_label_is_represented_in_the_first_round() -> None:
    vectors, gold, proba, _, keys = _data(150, noise=0.3)
    # A frequent label dominates the pool: random or cluster picks could miss the rare ones.
    frequent = np.flatnonzero(gold == 0)
    rows = np.concatenate([np.repeat(frequent, 10), np.flatnonzero(gold != 0)[:6]])
    jitter = np.random.default_rng(4).normal(scale=0.3, size=(len(rows), vectors.shape[1]))
    vectors, gold, proba = _unit(vectors[rows] + jitter), gold[rows], proba[rows]
    keys = [f"r{i:05d}" for i in range(len(rows))]
    chosen = choose_to_label(vectors, proba, BARS, np.zeros(len(rows), dtype=bool), 5,
                             keys=keys)
    assert set(gold[chosen]) == {0, 1, 2}


def test_fit_with_one_labelled_row_per_label_saves_and_loads(tmp_path: Path) -> None:
    vectors, gold, _, texts, _ = _data(30)
    rows = [0, 1, 2]
    Y = np.eye(3, dtype=bool)[gold[rows]]
    head = fit_labelled_head(vectors[rows], Y, CLASSES, [texts[i] for i in rows])
    proba = head.predict_proba(vectors, texts)
    assert proba.shape == (30, 3)
    assert (proba.argmax(axis=1)[:3] == gold[:3]).all()
    folder = tmp_path / "head"
    head.save(folder, {"labels": CLASSES})
    loaded, _ = LinearHead.load(folder)
    np.testing.assert_allclose(loaded.predict_proba(vectors, texts), proba, rtol=1e-5)


@pytest.mark.parametrize("with_seeds", [False, True])
def test_fit_with_labels_that_have_no_positive(with_seeds: bool) -> None:
    vectors, gold, _, texts, _ = _data(30)
    rows = np.flatnonzero(gold != 2)[:8]  # "praise" never labelled
    Y = np.eye(3, dtype=bool)[gold[rows]]
    head = fit_labelled_head(vectors[rows], Y, CLASSES, [texts[i] for i in rows],
                             seeds=_seeds() if with_seeds else None)
    proba = head.predict_proba(vectors, texts)
    assert proba.shape == (30, 3)
    assert np.isfinite(proba).all()
    assert head.thresholds_.shape == (3,)
    if not with_seeds:  # a constant "never" model for the label nobody labelled yet
        assert (proba[:, 2] < 0.01).all()


def test_fit_with_only_positives_for_a_label() -> None:
    vectors, _, _, texts, _ = _data(12)
    Y = np.zeros((12, 2), dtype=bool)
    Y[:, 0] = True
    Y[:6, 1] = True
    head = fit_labelled_head(vectors, Y, ["always", "half"], texts)
    assert (head.predict_proba(vectors, texts)[:, 0] > 0.99).all()


def test_estimate_accuracy_interval_contains_the_estimate() -> None:
    vectors, gold, _, texts, _ = _data(60)
    Y = np.eye(3, dtype=bool)[gold]
    first = estimate_accuracy(vectors, Y, CLASSES, texts, seeds=_seeds(), folds=3)
    assert first["ci_low"] <= first["macro_f1"] <= first["ci_high"]
    assert first["ci_low"] >= 0.0
    assert first["ci_high"] <= 1.0
    assert first["n_labels"] == 60
    assert first["folds"] == 3
    assert first == estimate_accuracy(vectors, Y, CLASSES, texts, seeds=_seeds(), folds=3)


def test_estimate_accuracy_with_too_few_labels() -> None:
    vectors, gold, _, texts, _ = _data(3)
    Y = np.eye(3, dtype=bool)[gold[:1]]
    out = estimate_accuracy(vectors[:1], Y, CLASSES, texts[:1])
    assert out["folds"] == 0
    assert out["ci_low"] <= out["macro_f1"] <= out["ci_high"]
