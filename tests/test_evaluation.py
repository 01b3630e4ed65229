from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score
from typer.testing import CliRunner

from themer.classify import DecisionRule
from themer.cli import app
from themer.errors import InputFileError
from themer.evaluation import (
    baseline_majority,
    brier_score,
    cv_folds,
    expected_calibration_error,
    label_scores,
    predict_cv,
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


def test_cv_never_trains_on_its_test_fold() -> None:
    rng = np.random.default_rng(0)
    gold = np.eye(2, dtype=bool)[np.repeat([0, 1], 20)]
    vectors = (gold.astype(np.float32) + 0.3 * rng.standard_normal((40, 2))).astype(np.float32)
    seen: list[tuple[set[int], set[int]]] = []
    result = predict_cv(vectors, gold, ["x", "y"], DecisionRule(multi_label=False), 4,
                        on_fold=lambda tr, te: seen.append((set(tr), set(te))))
    assert len(seen) == 4
    assert all(not (train & test) for train, test in seen)
    assert set().union(*(test for _, test in seen)) == set(range(40))
    assert (result.predicted.argmax(axis=1) == gold.argmax(axis=1)).mean() > 0.8
    with pytest.raises(InputFileError, match="at least 50 rows"):
        cv_folds(gold, 50)


def test_majority_baseline_uses_training_folds_only() -> None:
    gold = np.eye(2, dtype=bool)[[0, 0, 0, 1, 0, 0, 0, 1]]
    folds = [(np.arange(4, 8), np.arange(0, 4)), (np.arange(0, 4), np.arange(4, 8))]
    result = baseline_majority(gold, ["a", "b"], DecisionRule(multi_label=False), folds)
    assert result.predicted[:, 0].all()
    assert result.proba[0].tolist() == [0.75, 0.25]


def test_theme_nps_errors() -> None:
    gold = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=bool)
    pred = np.array([[1, 0], [0, 1], [0, 1], [0, 1]], dtype=bool)
    cats = ["promoter", "detractor", "detractor", "passive"]
    out = theme_nps_errors(gold, pred, cats, ["a", "b"])
    assert out["theme_nps"]["a"] == {"gold_nps": 0.0, "pred_nps": 100.0, "abs_error": 100.0}
    assert out["theme_nps"]["b"]["gold_nps"] == -50.0
    assert out["theme_nps"]["b"]["pred_nps"] == pytest.approx(-200 / 3)
    assert out["theme_nps_median_abs_error"] == pytest.approx((100 + 50 / 3) / 2)


ROWS = ([("please add an export to PDF", "feature_request", 8),
         ("would love a dark mode", "feature_request", 7),
         ("we need SSO support", "feature_request", 6),
         ("the app crashes when I save", "bug", 2), ("export fails with an error", "bug", 3),
         ("login is broken since Monday", "bug", 1), ("great product", "praise", 10),
         ("love it", "praise", 9), ("support is amazing", "praise", 10)] * 2
        + [("no label here", "", 5)])


@pytest.mark.parametrize("mode", [[], ["--cv", "2"], ["--cv", "2", "--baselines"]])
def test_cli_eval_json_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              mode: list[str]) -> None:
    monkeypatch.setenv("THEMER_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "labelled.csv"
    pd.DataFrame(ROWS, columns=["text", "label", "score"]).to_csv(data, index=False)
    out = tmp_path / "eval.json"
    taxonomy = Path(__file__).resolve().parent.parent / "taxonomy.yaml"
    result = CliRunner().invoke(app, ["eval", "--data", str(data), "--text-col", "text",
                                      "--label-col", "label", "--label-kind", "types",
                                      "--taxonomy", str(taxonomy), "--score-col", "score",
                                      "--json", str(out), *mode])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report) >= {"n", "mode", "labels", "macro_f1", "micro_f1", "per_label",
                           "abstain_rate", "ece", "brier", "theme_nps",
                           "theme_nps_median_abs_error", "impact_rank_spearman"}
    assert report["n"] == 18
    assert report["skipped_without_gold"] == 1
    assert report["labels"] == ["feature_request", "bug", "praise"]
    assert report["mode"] == ("cv2" if mode else "zero-shot")
    if "--baselines" in mode:
        assert set(report["baselines"]) == {"majority", "tfidf_lr", "zero_shot"}
        for base in report["baselines"].values():
            assert base["n"] == 18
            assert set(base) >= {"macro_f1", "per_label", "ece", "theme_nps"}
    assert 0 <= report["macro_f1"] <= 1
    assert set(report["per_label"]["bug"]) == {"precision", "recall", "f1", "support"}
