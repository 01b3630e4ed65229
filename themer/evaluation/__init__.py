"""Offline evaluation: how right are the tags, and how much does tagging error move theme NPS.

Rooms, each depending only on those above it::

    metrics    pure metric functions (F1, calibration, confusion, coverage, theme-NPS error)
               and EvalResult, the pooled predictions of one run
    crossval   seeded stratified folds, out-of-fold head predictions, baselines
    compare    two eval reports (compare_reports), two taggings (tag_drift)
    harness    evaluate_table: one mode of ``themer eval`` on a labelled table

scikit-learn and scipy load when a function needs them, not with the package.
"""

from __future__ import annotations

from themer.evaluation.compare import COMPARED_METRICS, compare_reports, tag_drift
from themer.evaluation.crossval import baseline_majority, baseline_tfidf, cv_folds, predict_cv
from themer.evaluation.harness import evaluate_table, scorer_result, split_result
from themer.evaluation.metrics import (
    EvalResult,
    brier_score,
    confusion,
    coverage_curve,
    expected_calibration_error,
    label_scores,
    reliability_bins,
    summarize,
    theme_nps_errors,
)

__all__ = [
    "COMPARED_METRICS",
    "EvalResult",
    "baseline_majority",
    "baseline_tfidf",
    "brier_score",
    "compare_reports",
    "confusion",
    "coverage_curve",
    "cv_folds",
    "evaluate_table",
    "expected_calibration_error",
    "label_scores",
    "predict_cv",
    "reliability_bins",
    "scorer_result",
    "split_result",
    "summarize",
    "tag_drift",
    "theme_nps_errors",
]
