"""Run the tagger against gold labels: one mode of ``themer eval`` on a labelled table.

``evaluate_table`` scores ``zero-shot`` (taxonomy prototypes), ``head`` (a trained head) or
``cv`` (stratified K-fold: train a head on K-1 folds, predict the held-out fold, score the
pooled predictions), optionally with baselines on the same folds and statement by statement
(``splitter``) as tagging does. The metrics are in :mod:`themer.evaluation.metrics`, the folds
and baselines in :mod:`themer.evaluation.crossval`, report comparison and tag drift in
:mod:`themer.evaluation.compare`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from themer.analytics.quantify import ErrorCounts
from themer.errors import Errors
from themer.evaluation.crossval import (
    Folds,
    baseline_majority,
    baseline_tfidf,
    cv_folds,
    predict_cv,
)
from themer.evaluation.metrics import (
    Bool2D,
    EvalResult,
    Float2D,
    summarize,
)
from themer.evaluation.quantified import GROUP, Part, theme_estimate_errors
from themer.ingest import score_categories
from themer.ingest.reader import text_list
from themer.nlp.classify import DecisionRule, LinearHead, assign, rule_for_head
from themer.nlp.embed import CachedEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import DEFAULT_RULES, prototype_scorer
from themer.taxonomy import LabelKind, TaxonomyInfo

__all__ = ["evaluate_table", "scorer_result", "split_result"]


def scorer_result(scorer: Any, vectors: Float2D, gold: Bool2D, labels: Sequence[str],
                  rule: DecisionRule, texts: Sequence[str] | None = None) -> EvalResult:
    """Predictions of a fitted scorer, restricted to the gold label list.

    The decision sees every label the scorer knows (as in tagging), then the columns of gold's
    labels are kept; a gold label the scorer lacks gets probability 0 and is never predicted.
    """
    classes = list(scorer.classes_)
    full = scorer.predict_proba(vectors, texts)
    decided = assign(full, rule)
    proba = np.zeros(gold.shape, dtype=np.float32)
    predicted = np.zeros(gold.shape, dtype=bool)
    for j, label in enumerate(labels):
        if label in classes:
            proba[:, j] = full[:, classes.index(label)]
            predicted[:, j] = decided[:, classes.index(label)]
    return EvalResult(list(labels), gold, proba, predicted)


def split_result(scorer: Any, splitter: StatementSplitter, encoder: CachedEncoder,
                 texts: Sequence[str], gold: Bool2D, labels: Sequence[str],
                 rule: DecisionRule) -> EvalResult:
    """Comment-level predictions the way themer tags: split each comment into statements,
    decide each statement with ``rule``, and give the comment the union of its statements'
    labels (its confidence per label is the best statement's)."""
    spans = list(splitter.split_many(texts))
    owner = np.repeat(np.arange(len(texts)), [len(s) for s in spans])
    statements = [span.text for comment in spans for span in comment]
    vectors = encoder.encode(statements)
    per_statement = scorer_result(scorer, vectors, gold[owner], labels, rule, statements)
    proba = np.zeros(gold.shape, dtype=np.float32)
    predicted = np.zeros(gold.shape, dtype=bool)
    np.maximum.at(proba, owner, per_statement.proba)
    np.logical_or.at(predicted, owner, per_statement.predicted)
    return EvalResult(list(labels), gold, proba, predicted)


@dataclass(frozen=True)
class _Labelled:
    """The gold-labelled rows of an evaluation table."""

    texts: list[str]
    gold: Bool2D
    labels: list[str]
    vectors: Float2D | None  # whole-text embeddings; None when scored statement by statement


def _check_request(frame: pd.DataFrame, columns: Sequence[str], source: str, *,
                   cv: int | None, baselines: bool, split: bool) -> None:
    """Refuse impossible option sets and absent columns before any embedding work."""
    if baselines and cv is None:
        raise Errors.THM127.error()
    if split and cv is not None:
        raise Errors.THM128.error()
    for column in columns:
        if column not in frame.columns:
            raise Errors.THM113.error(source=source, absent=[column],
                                      columns=list(frame.columns))


def _fixed_scorer(data: _Labelled, rule: DecisionRule, product_rule: DecisionRule, *,
                  kind: LabelKind, taxonomy: TaxonomyInfo, encoder: CachedEncoder,
                  head_dir: Path | None, splitter: StatementSplitter | None
                  ) -> tuple[str, EvalResult, DecisionRule]:
    """(mode, predictions, rule) of a trained head or the zero-shot prototypes."""
    scorer: Any
    if head_dir is not None:
        scorer, meta = LinearHead.load(head_dir)
        rule = rule_for_head(rule, meta)
        mode = f"head:{Path(head_dir).name}"
    else:
        scorer = prototype_scorer(taxonomy, kind, encoder)
        rule = product_rule
        mode = "zero-shot"
    if splitter is not None:
        return mode + "+split", split_result(scorer, splitter, encoder, data.texts, data.gold,
                                             data.labels, rule), rule
    assert data.vectors is not None
    return mode, scorer_result(scorer, data.vectors, data.gold, data.labels, rule,
                               data.texts), rule


def _baseline_runs(data: _Labelled, rule: DecisionRule, product_rule: DecisionRule,
                   folds: Folds, *, kind: LabelKind, taxonomy: TaxonomyInfo,
                   encoder: CachedEncoder, random_state: int) -> dict[str, EvalResult]:
    """The majority, TF-IDF and zero-shot baselines on the cross-validation's folds."""
    assert data.vectors is not None  # splitting with cv is rejected on entry
    return {
        "majority": baseline_majority(data.gold, data.labels, rule, folds),
        "tfidf_lr": baseline_tfidf(data.texts, data.gold, data.labels, rule, folds,
                                   random_state),
        "zero_shot": scorer_result(prototype_scorer(taxonomy, kind, encoder), data.vectors,
                                   data.gold, data.labels, product_rule),
    }


RATE_SOURCES = {
    "cv": "each training fold's own out-of-fold decisions (per NPS group), applied to its "
          "held-out fold",
    "head": "the head's out-of-fold error counts (head.json error_rates)",
    "zero-shot": "none measured (zero-shot): the corrected columns are the raw ones",
}


def _head_rates(head_dir: Path | None) -> dict[str, ErrorCounts]:
    """The error counts a trained head saved (none for zero-shot or an older head)."""
    if head_dir is None:
        return {}
    meta = json.loads((Path(head_dir) / "head.json").read_text(encoding="utf-8"))
    return {label: ErrorCounts.from_dict(c)
            for label, c in (meta.get("error_rates") or {}).items()}


def evaluate_table(
    frame: pd.DataFrame, *, text_col: str, label_col: str, labels_sep: str | None,
    kind: LabelKind, taxonomy: TaxonomyInfo, encoder: CachedEncoder, source: str,
    head_dir: Path | None = None, cv: int | None = None, score_col: str | None = None,
    scale: str = "nps", random_state: int = 0, baselines: bool = False,
    splitter: StatementSplitter | None = None, normalize_labels: bool = False,
) -> dict[str, Any]:
    """Score one mode on a labelled table; the returned dict is ``themer eval``'s JSON.

    With a ``splitter`` (zero-shot or ``head_dir`` only) each comment is tagged statement by
    statement, as ``themer tag`` does; otherwise each text is scored whole.
    """
    # themer.nlp.training imports scikit-learn at its top: loaded on call, not with the CLI
    from themer.nlp.training import label_matrix

    _check_request(frame, (text_col, label_col, *([score_col] if score_col else [])), source,
                   cv=cv, baselines=baselines, split=splitter is not None)
    gold, labels, kept = label_matrix(frame, label_col, labels_sep or "", taxonomy.taxonomy
                                      .label_ids(kind), source, normalize_labels)
    if len(kept) == 0:
        raise Errors.THM124.error(source=source, column=label_col)
    # Scores are checked before any embedding or training: a bad cell fails in a second.
    categories = (None if score_col is None
                  else score_categories(frame, score_col, kept, scale, source))
    folds = cv_folds(gold, cv, random_state) if cv is not None else None  # also fails fast
    texts = text_list(frame[text_col].iloc[kept])
    data = _Labelled(texts, gold, labels,
                     encoder.encode(texts) if splitter is None else None)
    # A trained head judges several gold labels on one text by keeping every label that clears
    # its own tuned cut. Zero-shot keeps the product's rule (one type per statement): its
    # confidences are not calibrated enough for independent cuts; splitting gives it several.
    multi_gold = bool((gold.sum(axis=1) > 1).any())
    product_rule = DEFAULT_RULES[kind]
    rule = replace(product_rule, multi_label=product_rule.multi_label or multi_gold)
    parts: list[Part] = []
    if cv is not None:
        mode = f"cv{cv}"
        assert data.vectors is not None
        groups = (None if categories is None else
                  np.asarray([GROUP[c] for c in categories], dtype=np.int64))
        result = predict_cv(data.vectors, gold, labels, rule, cv, random_state, texts=texts,
                            folds=folds, fold_errors=parts, groups=groups)
    else:
        mode, result, rule = _fixed_scorer(data, rule, product_rule, kind=kind,
                                           taxonomy=taxonomy, encoder=encoder,
                                           head_dir=head_dir, splitter=splitter)
        parts = [(np.arange(len(gold)), _head_rates(head_dir), {})]
    out = summarize(result, mode, rule.multi_label, categories)
    if categories is not None:
        out["quantification"] = {
            **theme_estimate_errors(gold, result.predicted, categories, labels, parts),
            "error_rates": RATE_SOURCES["cv" if cv is not None else
                                        "head" if head_dir is not None else "zero-shot"]}
    out["decision"] = "multi-label" if rule.multi_label else "single-label"
    out["skipped_without_gold"] = int(len(frame) - len(kept))
    if baselines:
        assert folds is not None  # baselines without cv are rejected on entry
        runs = _baseline_runs(data, rule, product_rule, folds, kind=kind, taxonomy=taxonomy,
                              encoder=encoder, random_state=random_state)
        out["baselines"] = {name: summarize(run, name, rule.multi_label, categories)
                            for name, run in runs.items()}
    return out
