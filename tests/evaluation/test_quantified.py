from __future__ import annotations

import numpy as np
import pytest

from themer.analytics.quantify import error_counts
from themer.evaluation.crossval import cv_folds, predict_cv
from themer.evaluation.quantified import Part, theme_estimate_errors
from themer.nlp.classify import DecisionRule

GROUPS = np.array(["promoter", "passive", "detractor"])


def biased(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Gold and predicted labels of a classifier with known error rates, and the scores:
    label a: 15% of rows, mostly detractors; b: 30%, mostly promoters."""
    gold = np.stack([rng.random(n) < 0.15, rng.random(n) < 0.3], axis=1)
    tpr, fpr = np.array([0.6, 0.8]), np.array([0.15, 0.12])
    hit = rng.random(gold.shape)
    predicted = np.where(gold, hit < tpr, hit < fpr)
    p_detractor = np.where(gold[:, 0], 0.8, 0.2)
    p_promoter = np.where(gold[:, 1] & ~gold[:, 0], 0.7, 0.3)
    u = rng.random(n)
    group = np.where(u < p_detractor, 2, np.where(u < p_detractor + p_promoter, 0, 1))
    return gold, predicted, GROUPS[np.minimum(group, 2)].tolist()


def test_corrected_beats_raw_when_rates_are_measured_on_other_rows() -> None:
    rng = np.random.default_rng(11)
    gold, predicted, categories = biased(rng, 4000)
    # error counts measured on an independent labelled sample of the same classifier
    other_gold, other_pred, other_cats = biased(rng, 10000)
    rates = error_counts(other_gold, other_pred, ["a", "b"])
    out = theme_estimate_errors(gold, predicted, categories, ["a", "b"],
                                [(np.arange(4000), rates, {})], draws=200)
    assert out["adjusted_labels"] == 2
    assert out["corrected"]["freq_error"] < out["raw"]["freq_error"]
    # pooled rates only: the table shows the tagged NPS; the mixture correction fixes it here
    # (errors independent of the score, as simulated)
    assert out["corrected"]["nps_error"] == pytest.approx(out["raw"]["nps_error"])
    assert out["mixture"]["nps_error"] < out["raw"]["nps_error"]
    cats = np.asarray(other_cats)
    by_group = {label: [error_counts(other_gold[cats == g], other_pred[cats == g],
                                     ["a", "b"])[label]
                        for g in ("promoter", "passive", "detractor")] for label in ("a", "b")}
    out = theme_estimate_errors(gold, predicted, categories, ["a", "b"],
                                [(np.arange(4000), rates, by_group)], draws=200)
    assert out["corrected"]["freq_error"] < out["raw"]["freq_error"]
    assert out["corrected"]["nps_error"] < out["raw"]["nps_error"]
    for label in ("a", "b"):
        row = out["per_label"][label]
        assert row["corrected"]["freq_covered"]
        assert row["corrected"]["nps_covered"]
        assert row["gold_frequency"] == pytest.approx(gold[:, ["a", "b"].index(label)].mean())


def test_no_parts_means_raw() -> None:
    rng = np.random.default_rng(2)
    gold, predicted, categories = biased(rng, 500)
    out = theme_estimate_errors(gold, predicted, categories, ["a", "b"], [], draws=50)
    assert out["adjusted_labels"] == 0
    assert out["corrected"]["freq_error"] == pytest.approx(out["raw"]["freq_error"])
    assert out["corrected"]["nps_error"] == pytest.approx(out["raw"]["nps_error"])


def test_cv_error_rates_come_from_the_training_folds_only() -> None:
    rng = np.random.default_rng(5)
    n = 120
    gold = np.zeros((n, 2), dtype=bool)
    gold[np.arange(n), rng.integers(0, 2, n)] = True
    vectors = (rng.normal(0, 1, (n, 6)) + 2 * gold[:, :1]).astype(np.float32)
    parts: list[Part] = []
    folds = cv_folds(gold, 3, 0)
    groups = rng.integers(0, 3, n)
    predict_cv(vectors, gold, ["a", "b"], DecisionRule(multi_label=False), 3, folds=folds,
               fold_errors=parts, groups=groups)
    assert len(parts) == 3
    for (rows, rates, by_group), (train, test) in zip(parts, folds, strict=True):
        assert np.array_equal(rows, test)
        for label, counts in rates.items():  # counted on the training rows, never held-out ones
            assert counts.tp + counts.fp + counts.fn + counts.tn == len(train)
            sizes = [c.tp + c.fp + c.fn + c.tn for c in by_group[label]]
            assert sizes == np.bincount(groups[train], minlength=3).tolist()
    assert sorted(np.concatenate([p[0] for p in parts]).tolist()) == list(range(n))
