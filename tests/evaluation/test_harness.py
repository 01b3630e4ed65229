from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from themer.cli import app
from themer.errors import InputFileError, hint

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
    quant = report["quantification"]
    for name in ("raw", "corrected"):
        assert set(quant[name]) == {"freq_error", "nps_error", "freq_coverage", "nps_coverage"}
    assert set(quant["per_label"]) == {"feature_request", "bug", "praise"}
    if not mode:  # zero-shot measured no error rates: nothing is corrected
        assert quant["adjusted_labels"] == 0
        assert quant["corrected"]["freq_error"] == pytest.approx(quant["raw"]["freq_error"])


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
    with pytest.raises(InputFileError, match=r"not in the taxonomy.*normalize the labels") as info:
        label_matrix(frame, "labels", ";", ["battery", "app_usability"], "f")
    assert info.value.code == "THM120"
    assert "--" not in str(info.value)  # the library names no CLI flag ...
    assert "--normalize-labels" in (hint("THM120", "cli") or "")  # ... the CLI's hint does


@pytest.mark.parametrize(("options", "code"), [({"baselines": True}, "THM127"),
                                               ({"cv": 2, "splitter": object()}, "THM128"),
                                               ({"score_col": "absent"}, "THM113")])
def test_impossible_requests_fail_before_any_work(taxonomy: object, options: dict[str, object],
                                                  code: str) -> None:
    from themer.evaluation.harness import evaluate_table

    frame = pd.DataFrame({"text": ["the app crashes"], "label": ["bug"]})
    with pytest.raises(InputFileError) as info:
        evaluate_table(frame, text_col="text", label_col="label", labels_sep=None, kind="type",
                       taxonomy=taxonomy, encoder=None, source="mem",  # type: ignore[arg-type]
                       **options)  # type: ignore[arg-type]
    assert info.value.code == code
    assert "--" not in str(info.value)  # the library names no CLI flag
