from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from themer.evaluation.metrics import (
    EvalResult,
    brier_score,
    confusion,
    coverage_curve,
    expected_calibration_error,
    label_scores,
    reliability_bins,
    theme_nps_errors,
)

GOLD = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=bool)
PRED = np.array([[1, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=bool)

def test_label_scores_match_sklearn() -> None:
    scores = label_scores(GOLD, PRED, ["a", "b", "c"])
    assert scores["macro_f1"] == pytest.approx(f1_score(GOLD, PRED, average="macro",
                                                        zero_division=0))
    assert scores["micro_f1"] == pytest.approx(f1_score(GOLD, PRED, average="micro",
                                                        zero_division=0))
    assert scores["per_label"]["a"] == {"precision": 2 / 3, "recall": 2 / 3,
                                        "f1": pytest.approx(2 / 3), "support": 3}
    assert scores["abstain_rate"] == pytest.approx(1 / 5)


def test_ece_and_brier_hand_cases() -> None:
    # two bins used: [0.9, 0.9] with 1 of 2 right -> |0.5 - 0.9| * 0.5 ; [0.2] wrong -> 0.2 * 0.5
    ece = expected_calibration_error(np.array([0.9, 0.9, 0.2, 0.2]),
                                     np.array([True, False, False, False]))
    assert ece == pytest.approx(0.5 * 0.4 + 0.5 * 0.2)
    assert expected_calibration_error(np.array([1.0, 0.0]), np.array([True, False])) == 0.0
    assert brier_score(np.array([[1.0, 0.5]]), np.array([[True, False]])) == pytest.approx(0.125)


def test_confusion_matches_sklearn_on_single_label() -> None:
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(3)
    g, p = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    gold, pred = np.eye(3, dtype=bool)[g], np.eye(3, dtype=bool)[p]
    pred[:5] = False  # five abstentions
    counts = confusion(gold, pred)
    expected = confusion_matrix(g[5:], p[5:], labels=[0, 1, 2])
    assert (counts[:, :3] == expected).all()
    assert counts[:, 3].tolist() == np.bincount(g[:5], minlength=3).tolist()


def test_reliability_and_coverage() -> None:
    bins = reliability_bins(np.array([0.05, 0.95, 0.95]), np.array([False, True, False]))
    assert [b["count"] for b in bins] == [1] + [0] * 8 + [2]
    assert bins[9]["accuracy"] == 0.5
    assert bins[9]["confidence"] == pytest.approx(0.95)
    gold = np.array([[1, 0], [0, 1], [0, 1]], dtype=bool)
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]], dtype=np.float32)
    result = EvalResult(["a", "b"], gold, proba, gold)
    curve = {c["threshold"]: c for c in coverage_curve(result, multi_label=False)}
    assert curve[0.0] == {"threshold": 0.0, "coverage": 1.0, "precision": pytest.approx(2 / 3)}
    assert curve[0.7] == {"threshold": 0.7, "coverage": pytest.approx(2 / 3), "precision": 1.0}
    assert curve[0.95]["coverage"] == 0.0


def test_theme_nps_errors() -> None:
    gold = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=bool)
    pred = np.array([[1, 0], [0, 1], [0, 1], [0, 1]], dtype=bool)
    cats = ["promoter", "detractor", "detractor", "passive"]
    out = theme_nps_errors(gold, pred, cats, ["a", "b"])
    assert out["theme_nps"]["a"] == {"gold_nps": 0.0, "pred_nps": 100.0, "abs_error": 100.0}
    assert out["theme_nps"]["b"]["gold_nps"] == -50.0
    assert out["theme_nps"]["b"]["pred_nps"] == pytest.approx(-200 / 3)
    assert out["theme_nps_median_abs_error"] == pytest.approx((100 + 50 / 3) / 2)
