from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import f1_score
from typer.testing import CliRunner

from themer.cli import app
from themer.errors import InputFileError
from themer.evaluation.harness import (
    EvalResult,
    baseline_majority,
    brier_score,
    compare_reports,
    confusion,
    coverage_curve,
    cv_folds,
    expected_calibration_error,
    label_scores,
    predict_cv,
    reliability_bins,
    tag_drift,
    theme_nps_errors,
)
from themer.nlp.classify import DecisionRule

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
    with pytest.raises(InputFileError, match="at least 100 labelled rows"):
        cv_folds(gold, 50)


def test_cv_folds_spread_a_rare_label_that_never_comes_first() -> None:
    # label 2 appears only next to label 0: first-label stratification would ignore it
    gold = np.zeros((60, 4), dtype=bool)
    gold[:40, 0] = True
    gold[40:, 1] = True
    gold[:10, 2] = True
    gold[[50, 51], 3] = True  # a stratum smaller than K is pooled, not refused
    folds = cv_folds(gold, 5)
    for _, test in folds:
        assert gold[test, 2].sum() == 2
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(60))
    with pytest.raises(InputFileError, match="K >= 2"):
        cv_folds(gold, 1)


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
    taxonomy = Path(__file__).resolve().parents[2] / "taxonomy.yaml"
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


def test_compare_reports_and_refuses_different_data() -> None:
    a = {"n": 10, "mode": "zero-shot", "labels": ["x", "y"], "macro_f1": 0.5, "ece": 0.1,
         "per_label": {"x": {"precision": 0.5, "recall": 0.5, "f1": 0.5},
                       "y": {"precision": 1.0, "recall": 0.2, "f1": 1 / 3}}}
    b = {**a, "mode": "cv5", "labels": ["x", "z"], "macro_f1": 0.7,
         "per_label": {"x": {"precision": 0.75, "recall": 0.5, "f1": 0.6},
                       "z": {"precision": 1.0, "recall": 1.0, "f1": 1.0}}}
    diff = compare_reports(a, b)
    assert diff["metrics"]["macro_f1"]["delta"] == pytest.approx(0.2)
    assert diff["metrics"]["brier"] == {"a": None, "b": None, "delta": None}
    assert diff["per_label"]["x"]["precision"]["delta"] == pytest.approx(0.25)
    assert (diff["only_in_a"], diff["only_in_b"]) == (["y"], ["z"])
    with pytest.raises(InputFileError, match="different data"):
        compare_reports(a, {**b, "n": 11})
    with pytest.raises(InputFileError, match="missing"):
        compare_reports(a, {"n": 10})


def test_tag_drift_counts_changes_per_label() -> None:
    def tags(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=["statement_id", "kind", "label"])

    before = tags([("s1", "area", "billing"), ("s1", "type", "bug"), ("s2", "area", "billing"),
                   ("s2", "type", "praise"), ("s3", "area", "unassigned"), ("s3", "type", "bug")])
    after = tags([("s1", "area", "billing"), ("s1", "type", "bug"), ("s2", "area", "pricing"),
                  ("s2", "area", "billing"), ("s2", "type", "praise"), ("s3", "area", "search"),
                  ("s3", "type", "bug")])
    drift = tag_drift(before, after)
    assert drift["statements"] == 3
    assert drift["kinds"]["type"]["changed"] == 0
    area = drift["kinds"]["area"]
    assert area["changed"] == 2
    assert area["changed_share"] == pytest.approx(2 / 3)
    assert area["per_label"]["pricing"] == {"before": 0, "after": 1, "gained": 1, "lost": 0}
    assert area["per_label"]["unassigned"] == {"before": 1, "after": 0, "gained": 0, "lost": 1}
    with pytest.raises(InputFileError, match="same statements"):
        tag_drift(before, after[after["statement_id"] != "s3"])


def test_eval_table_reads_blank_texts_as_empty(encoder: object, taxonomy: object) -> None:
    from themer.evaluation.harness import evaluate_table
    from themer.nlp.embed import CachedEncoder

    frame = pd.DataFrame({"text": ["the app crashes", None, "please add export"],
                          "label": ["bug", "bug", "feature_request"]})
    report = evaluate_table(frame, text_col="text", label_col="label", labels_sep=None,
                            kind="type", taxonomy=taxonomy,  # type: ignore[arg-type]
                            encoder=CachedEncoder(encoder, None),  # type: ignore[arg-type]
                            source="mem")
    assert report["n"] == 3


def test_cli_eval_html_split_compare_and_drift(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THEMER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("THEMER_MODELS_DIR", str(tmp_path / "no-models"))
    root = Path(__file__).resolve().parents[2]
    data = tmp_path / "labelled.csv"
    pd.DataFrame(ROWS, columns=["text", "label", "score"]).to_csv(data, index=False)
    runner = CliRunner()
    common = ["eval", "--data", str(data), "--text-col", "text", "--label-col", "label",
              "--label-kind", "types", "--taxonomy", str(root / "taxonomy.yaml")]
    whole, split = tmp_path / "whole.json", tmp_path / "split.json"
    html = tmp_path / "eval.html"
    assert runner.invoke(app, [*common, "--json", str(whole), "--html", str(html)]).exit_code == 0
    result = runner.invoke(app, [*common, "--split", "--json", str(split)])
    assert result.exit_code == 0, result.output
    assert json.loads(split.read_text())["mode"] == "zero-shot+split"
    page = html.read_text()
    for element in ('id="confusion"', 'id="reliability"', 'id="coverage"', "feature_request"):
        assert element in page
    diff_json = tmp_path / "diff.json"
    result = runner.invoke(app, ["eval", "compare", str(whole), str(split), "--json",
                                 str(diff_json)])
    assert result.exit_code == 0, result.output
    assert json.loads(diff_json.read_text())["modes"] == ["zero-shot", "zero-shot+split"]
    missing = runner.invoke(app, ["eval", "--data", str(data), "--json", str(whole)])
    assert missing.exit_code == 2
    assert "--text-col, --label-col, --label-kind" in missing.output

    # drift: the same survey under the shipped taxonomy and one with an area removed
    survey = tmp_path / "survey.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "score": [9, 2, 5],
                  "comment": ["Exporting reports to PDF fails every time.",
                              "Billing charged us twice this month.", "Love the dashboards"]}
                 ).to_csv(survey, index=False)
    edited = yaml.safe_load((root / "taxonomy.yaml").read_text())
    removed = edited["areas"].pop(0)["id"]
    edited_path = tmp_path / "edited.yaml"
    edited_path.write_text(yaml.safe_dump(edited))
    drift_json = tmp_path / "drift.json"
    result = runner.invoke(app, ["eval", "drift", str(survey), "--text-col", "comment",
                                 "--to-taxonomy", str(edited_path), "--json", str(drift_json),
                                 "--id-col", "id", "--score-col", "score",
                                 "--from-taxonomy", str(root / "taxonomy.yaml")])
    assert result.exit_code == 0, result.output
    drift = json.loads(drift_json.read_text())
    assert drift["kinds"]["type"]["changed"] == 0  # types untouched by an area edit
    assert removed not in {label for label, counts in drift["kinds"]["area"]["per_label"].items()
                           if counts["after"] > 0}


def test_normalize_labels_maps_gold_to_taxonomy_ids() -> None:
    from themer.nlp.training import label_matrix, normalize_label

    assert normalize_label(" APP USABILITY ") == "app_usability"
    assert normalize_label("FOOD#STYLE_OPTIONS") == "food_style_options"
    frame = pd.DataFrame({"labels": ["APP USABILITY;Battery", "", "battery"]})
    gold, labels, kept = label_matrix(frame, "labels", ";", ["battery", "app_usability"], "f",
                                      normalize=True)
    assert labels == ["battery", "app_usability"]
    assert kept == [0, 2]
    assert gold.tolist() == [[True, True], [True, False]]
    with pytest.raises(InputFileError, match="--normalize-labels"):
        label_matrix(frame, "labels", ";", ["battery", "app_usability"], "f")
