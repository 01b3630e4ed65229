"""Offline evaluation: how right are the tags, and how much does tagging error move theme NPS.

Pure metric functions (arrays in, numbers out) plus ``evaluate`` which runs one mode:
``zero-shot`` (taxonomy prototypes), ``head`` (a trained head) or ``cv`` (stratified K-fold:
train a head on K-1 folds, predict the held-out fold, score the pooled predictions).
Gold and predicted labels are indicator matrices (n, L) over one label list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import spearmanr
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from themer.analytics.nps import impact, nps
from themer.errors import InputFileError, StatsError
from themer.ingest.tables import text_list
from themer.nlp.classify import (
    DecisionRule,
    LinearHead,
    assign,
    f1_optimal_thresholds,
    rule_for_head,
)
from themer.nlp.embed import CachedEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import DEFAULT_RULES, prototype_scorer
from themer.nlp.training import label_matrix
from themer.schema import SCALES
from themer.taxonomy import LabelKind, TaxonomyInfo

__all__ = [
    "EvalResult",
    "brier_score",
    "compare_reports",
    "confusion",
    "coverage_curve",
    "cv_folds",
    "evaluate_table",
    "expected_calibration_error",
    "label_scores",
    "reliability_bins",
    "scorer_result",
    "tag_drift",
    "theme_nps_errors",
]

Bool2D = NDArray[np.bool_]
Float2D = NDArray[np.float32]


def label_scores(gold: Bool2D, predicted: Bool2D, labels: Sequence[str]) -> dict[str, Any]:
    """Macro/micro F1 and per-label precision, recall, F1, support (scikit-learn definitions)."""
    if gold.shape != predicted.shape or gold.shape[1] != len(labels):
        raise StatsError("gold and predicted must both be (n, labels)", code="THM409")
    p, r, f, s = precision_recall_fscore_support(gold, predicted, average=None, zero_division=0)
    macro = precision_recall_fscore_support(gold, predicted, average="macro", zero_division=0)
    micro = precision_recall_fscore_support(gold, predicted, average="micro", zero_division=0)
    return {
        "macro_f1": float(macro[2]),
        "micro_f1": float(micro[2]),
        "per_label": {label: {"precision": float(p[j]), "recall": float(r[j]),
                              "f1": float(f[j]), "support": int(s[j])}
                      for j, label in enumerate(labels)},
        "abstain_rate": float((~predicted.any(axis=1)).mean()) if len(predicted) else 0.0,
    }


def expected_calibration_error(confidence: NDArray[np.floating[Any]],
                               correct: NDArray[np.bool_], bins: int = 10) -> float:
    """ECE: sum over equal-width confidence bins of |accuracy - mean confidence| x bin share."""
    confidence = np.asarray(confidence, dtype=float).ravel()
    correct = np.asarray(correct, dtype=bool).ravel()
    if confidence.size == 0:
        raise StatsError("ECE needs at least one prediction", code="THM410")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def brier_score(proba: Float2D, gold: Bool2D) -> float:
    """Mean squared error of per-label probabilities against 0/1 gold, over all cells."""
    return float(np.mean((np.asarray(proba, dtype=float) - gold.astype(float)) ** 2))


def cv_folds(gold: Bool2D, k: int, random_state: int = 0) -> list[tuple[NDArray[np.intp],
                                                                         NDArray[np.intp]]]:
    """Stratified K-fold (seeded); (train, test) index pairs.

    Each row is stratified on its rarest gold label, so a label that is rare and always comes
    with a frequent one still spreads over the folds; strata smaller than K are pooled.
    """
    if k < 2 or len(gold) < 2 * k:
        raise InputFileError(f"--cv {k}: needs K >= 2 and at least {2 * k} labelled rows "
                             f"(there are {len(gold)}); use a smaller K.", code="THM123")
    support = gold.sum(axis=0)
    rarity = np.where(gold, support[None, :], np.iinfo(np.int64).max)
    strata = rarity.argmin(axis=1)
    counts = np.bincount(strata, minlength=gold.shape[1])
    small = counts[strata] < k
    if small.any():
        strata[small] = gold.shape[1]  # one pooled stratum for all the small ones
        if small.sum() < k:  # still too small: join it to the largest stratum
            strata[small] = int(np.bincount(strata[~small]).argmax())
    splitter = StratifiedKFold(k, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(len(strata)), strata))


def theme_nps_errors(gold: Bool2D, predicted: Bool2D, categories: Sequence[str],
                     labels: Sequence[str]) -> dict[str, Any]:
    """Per label: NPS of rows with the gold label vs with the predicted label, and the ranking
    agreement (Spearman) of theme impacts computed from gold vs from predicted tags."""
    cats = pd.Series(list(categories))
    counts = cats.value_counts()
    total = tuple(int(counts.get(c, 0)) for c in ("promoter", "passive", "detractor"))
    per_label: dict[str, dict[str, float | None]] = {}
    gold_impacts, pred_impacts = [], []
    for j, label in enumerate(labels):
        row: dict[str, float | None] = {"gold_nps": None, "pred_nps": None, "abs_error": None}
        impacts = []
        for key, mask in (("gold_nps", gold[:, j]), ("pred_nps", predicted[:, j])):
            if mask.any():
                group = cats[mask].value_counts()
                theme = tuple(int(group.get(c, 0)) for c in ("promoter", "passive", "detractor"))
                row[key] = nps(*theme)
                impacts.append(impact(theme, total))  # type: ignore[arg-type]
            else:
                impacts.append(0.0)
        if row["gold_nps"] is not None and row["pred_nps"] is not None:
            row["abs_error"] = abs(row["gold_nps"] - row["pred_nps"])
        gold_impacts.append(impacts[0])
        pred_impacts.append(impacts[1])
        per_label[label] = row
    errors = [r["abs_error"] for r in per_label.values() if r["abs_error"] is not None]
    # Spearman is undefined for fewer than two labels or a constant ranking (e.g. majority).
    defined = len(labels) > 1 and np.ptp(gold_impacts) > 0 and np.ptp(pred_impacts) > 0
    rho = spearmanr(gold_impacts, pred_impacts).statistic if defined else float("nan")
    return {
        "theme_nps": per_label,
        "theme_nps_median_abs_error": float(np.median(errors)) if errors else None,
        "impact_rank_spearman": None if np.isnan(rho) else float(rho),
    }


@dataclass(frozen=True)
class EvalResult:
    """Pooled predictions of one evaluation run."""

    labels: list[str]
    gold: Bool2D
    proba: Float2D
    predicted: Bool2D


def predict_cv(vectors: Float2D, gold: Bool2D, labels: Sequence[str], rule: DecisionRule,
               k: int, random_state: int = 0,
               on_fold: Callable[[NDArray[np.intp], NDArray[np.intp]], None] | None = None,
               texts: Sequence[str] | None = None,
               folds: Sequence[tuple[NDArray[np.intp], NDArray[np.intp]]] | None = None
               ) -> EvalResult:
    """Out-of-fold predictions: each row predicted by a head that never saw it.

    ``folds`` (from ``cv_folds(gold, k, random_state)``) lets a caller share them with the
    baselines; by default they are made here.

    Each fold decides as ``themer train`` ships a head: at the per-label cuts the head tuned
    on its own training rows (inner out-of-fold), never on the held-out fold.
    """
    proba = np.zeros(gold.shape, dtype=np.float32)
    predicted = np.zeros(gold.shape, dtype=bool)
    # Without texts the head is the embedding-only one (what library callers with bare
    # vectors can train); themer train and themer eval always pass them.
    words = None if texts is None else np.asarray(texts, dtype=object)
    for train, test in folds if folds is not None else cv_folds(gold, k, random_state):
        if on_fold is not None:
            on_fold(train, test)
        # A label with no positive (or no negative) row in this training fold cannot be learnt:
        # its held-out probability stays 0 and it counts against recall.
        present = np.flatnonzero(gold[train].any(axis=0) & ~gold[train].all(axis=0))
        head = LinearHead(random_state=random_state, lexical=words is not None).fit(
            vectors[train], gold[train][:, present], [labels[int(j)] for j in present],
            None if words is None else words[train].tolist())
        proba[np.ix_(test, present)] = head.predict_proba(
            vectors[test], None if words is None else words[test].tolist())
        bars = np.full(len(labels), 1.0, dtype=np.float32)  # unlearnt labels: never predicted
        bars[present] = head.thresholds_
        fold_rule = replace(rule, label_thresholds=tuple(float(b) for b in bars))
        predicted[test] = assign(proba[test], fold_rule)
    return EvalResult(list(labels), gold, proba, predicted)


def baseline_majority(gold: Bool2D, labels: Sequence[str], rule: DecisionRule,
                      folds: Sequence[tuple[NDArray[np.intp], NDArray[np.intp]]]) -> EvalResult:
    """Every held-out row gets the training folds' label frequencies as probabilities."""
    proba = np.zeros(gold.shape, dtype=np.float32)
    for train, test in folds:
        proba[test] = gold[train].mean(axis=0)
    # The majority label always wins; multi-label sets keep labels above half the rows.
    predicted = np.zeros(gold.shape, dtype=bool)
    predicted[np.arange(len(gold)), proba.argmax(axis=1)] = True
    if rule.multi_label:
        predicted |= proba >= 0.5
    return EvalResult(list(labels), gold, proba, predicted)


def baseline_tfidf(texts: Sequence[str], gold: Bool2D, labels: Sequence[str],
                   rule: DecisionRule,
                   folds: Sequence[tuple[NDArray[np.intp], NDArray[np.intp]]],
                   random_state: int = 0) -> EvalResult:
    """TF-IDF (word 1-2 grams) + class-balanced one-vs-rest logistic regression, same folds.

    Given the same per-label cut tuning as the head (inner out-of-fold F1 on the training
    folds), so the comparison is of representations, not of decision rules.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline

    array = np.asarray(texts, dtype=object)
    proba = np.zeros(gold.shape, dtype=np.float32)
    predicted = np.zeros(gold.shape, dtype=bool)
    for train, test in folds:
        bars = np.ones(gold.shape[1], dtype=np.float32)
        for j in range(gold.shape[1]):
            y = gold[train, j]
            if y.sum() < 2 or (~y).sum() < 2:
                continue
            model = make_pipeline(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                LogisticRegression(class_weight="balanced", max_iter=2000,
                                   random_state=random_state))
            inner = StratifiedKFold(min(5, int(y.sum())), shuffle=True,
                                    random_state=random_state)
            oof = cross_val_predict(model, array[train], y, cv=inner, method="predict_proba")
            bars[j] = f1_optimal_thresholds(oof[:, 1:].astype(np.float32), y[:, None])[0]
            proba[test, j] = model.fit(array[train], y).predict_proba(array[test])[:, 1]
        predicted[test] = assign(proba[test],
                                 replace(rule, label_thresholds=tuple(float(b) for b in bars)))
    return EvalResult(list(labels), gold, proba, predicted)


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


def confusion(gold: Bool2D, predicted: Bool2D) -> NDArray[np.int64]:
    """(L, L + 1) counts: rows = gold label, columns = predicted label, last column = the row
    got no label. A multi-label row counts once for every (gold, predicted) pair it holds."""
    g = gold.astype(np.int64)
    pairs = g.T @ predicted.astype(np.int64)
    none = g[~predicted.any(axis=1)].sum(axis=0)
    out: NDArray[np.int64] = np.concatenate([pairs, none[:, None]], axis=1)
    return out


def reliability_bins(confidence: NDArray[np.floating[Any]], correct: NDArray[np.bool_],
                     bins: int = 10) -> list[dict[str, float | int]]:
    """Per equal-width confidence bin: count, mean confidence, share correct (for the diagram)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows: list[dict[str, float | int]] = []
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": count,
                     "confidence": float(confidence[inside].mean()) if count else 0.0,
                     "accuracy": float(correct[inside].mean()) if count else 0.0})
    return rows


def coverage_curve(result: EvalResult, multi_label: bool,
                   cuts: Sequence[float] = tuple(np.round(np.arange(0.0, 0.96, 0.05), 2))
                   ) -> list[dict[str, float]]:
    """For each abstain threshold: share of rows that keep a label, and precision of the kept
    labels (top label only for single-label decisions)."""
    proba, gold = result.proba, result.gold
    if not multi_label:
        top = proba.argmax(axis=1)
        keep = np.zeros(proba.shape, dtype=bool)
        keep[np.arange(len(top)), top] = True
        proba = np.where(keep, proba, -1.0)
    rows = []
    for cut in cuts:
        kept = proba >= cut
        n_kept = int(kept.sum())
        rows.append({"threshold": float(cut), "coverage": float(kept.any(axis=1).mean()),
                     "precision": float((kept & gold).sum() / n_kept) if n_kept else 1.0})
    return rows


def summarize(result: EvalResult, mode: str, multi_label: bool,
              categories: Sequence[str] | None = None) -> dict[str, Any]:
    """The stable JSON of an evaluation (keys documented in the README)."""
    out: dict[str, Any] = {"n": len(result.gold), "mode": mode, "labels": result.labels}
    out.update(label_scores(result.gold, result.predicted, result.labels))
    if multi_label:
        confidence, correct = result.proba.ravel(), result.gold.ravel()
    else:  # top-1 confidence vs whether the top label is right
        top = result.proba.argmax(axis=1)
        confidence = result.proba[np.arange(len(top)), top]
        correct = result.gold[np.arange(len(top)), top]
    out["ece"] = expected_calibration_error(confidence, correct)
    out["brier"] = brier_score(result.proba, result.gold)
    out["confusion"] = {"gold": result.labels, "predicted": [*result.labels, "(none)"],
                        "counts": confusion(result.gold, result.predicted).tolist()}
    out["reliability"] = reliability_bins(np.asarray(confidence, dtype=float),
                                          np.asarray(correct, dtype=bool))
    out["coverage"] = coverage_curve(result, multi_label)
    if categories is not None:
        out.update(theme_nps_errors(result.gold, result.predicted, categories, result.labels))
    return out


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
    if baselines and cv is None:  # before any embedding work
        raise InputFileError("--baselines needs --cv K (baselines train on the same folds).",
                             code="THM127")
    if splitter is not None and cv is not None:
        raise InputFileError("--split applies to zero-shot and --head; --cv trains and scores "
                             "whole texts.", code="THM128")
    for column in (text_col, label_col, *([score_col] if score_col else [])):
        if column not in frame.columns:
            raise InputFileError(f"{source}: column '{column}' not found; columns are "
                                 f"{list(frame.columns)}.", code="THM113")
    gold, labels, kept = label_matrix(frame, label_col, labels_sep or "", taxonomy.taxonomy
                                      .label_ids(kind), source, normalize_labels)
    if len(kept) == 0:
        raise InputFileError(f"{source}: no row has a gold label in '{label_col}'.",
                             code="THM124")
    # Scores are checked before any embedding or training: a bad cell fails in a second.
    categories = None
    if score_col is not None:
        mapping = SCALES[scale]
        raw = pd.to_numeric(frame[score_col].iloc[kept], errors="coerce")
        bad = [kept[i] for i, v in enumerate(raw) if pd.isna(v) or int(v) not in mapping]
        if bad:
            raise InputFileError(f"{source}, row {bad[0] + 2}, column '{score_col}': not a "
                                 f"score on the '{scale}' scale ({len(bad)} such rows).",
                                 code="THM125")
        categories = [mapping[int(v)] for v in raw]
    folds = cv_folds(gold, cv, random_state) if cv is not None else None  # also fails fast
    texts = text_list(frame[text_col].iloc[kept])
    vectors = encoder.encode(texts) if splitter is None else None
    # A trained head judges several gold labels on one text by keeping every label that clears
    # its own tuned cut. Zero-shot keeps the product's rule (one type per statement): its
    # confidences are not calibrated enough for independent cuts; --split gives it several.
    multi_gold = bool((gold.sum(axis=1) > 1).any())
    product_rule = DEFAULT_RULES[kind]
    rule = replace(product_rule, multi_label=product_rule.multi_label or multi_gold)
    scorer: Any
    if cv is not None:
        mode = f"cv{cv}"
        assert vectors is not None
        result = predict_cv(vectors, gold, labels, rule, cv, random_state, texts=texts,
                            folds=folds)
    else:
        if head_dir is not None:
            scorer, meta = LinearHead.load(head_dir)
            rule = rule_for_head(rule, meta)
            mode = f"head:{Path(head_dir).name}"
        else:
            scorer = prototype_scorer(taxonomy, kind, encoder)
            rule = product_rule
            mode = "zero-shot"
        if splitter is not None:
            mode += "+split"
            result = split_result(scorer, splitter, encoder, texts, gold, labels, rule)
        else:
            assert vectors is not None
            result = scorer_result(scorer, vectors, gold, labels, rule, texts)
    out = summarize(result, mode, rule.multi_label, categories)
    out["decision"] = "multi-label" if rule.multi_label else "single-label"
    out["skipped_without_gold"] = int(len(frame) - len(kept))
    if baselines:
        assert folds is not None  # --baselines without --cv is rejected on entry
        assert vectors is not None  # --split with --cv is rejected on entry
        runs = {
            "majority": baseline_majority(gold, labels, rule, folds),
            "tfidf_lr": baseline_tfidf(texts, gold, labels, rule, folds, random_state),
            "zero_shot": scorer_result(prototype_scorer(taxonomy, kind, encoder), vectors, gold,
                                       labels, product_rule),
        }
        out["baselines"] = {name: summarize(run, name, rule.multi_label, categories)
                            for name, run in runs.items()}
    return out


COMPARED_METRICS = ("macro_f1", "micro_f1", "abstain_rate", "ece", "brier",
                    "theme_nps_median_abs_error", "impact_rank_spearman")


def compare_reports(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """B minus A for the headline metrics and per label F1/precision/recall.

    Labels present in only one report are listed, not compared. Both reports must be of the
    same data (same n): a difference between different data sets means nothing.
    """
    for name, report in (("A", a), ("B", b)):
        missing = [key for key in ("n", "mode", "labels", "per_label") if key not in report]
        if missing:
            raise InputFileError(f"report {name} is not a themer eval JSON (missing {missing}).",
                                 code="THM129")
    if a["n"] != b["n"]:
        raise InputFileError(f"the reports are of different data (n = {a['n']} vs {b['n']}); "
                             "compare runs on the same labelled file.", code="THM130")

    def delta(x: Any, y: Any) -> float | None:
        return None if x is None or y is None else float(y) - float(x)

    shared = [label for label in a["labels"] if label in set(b["labels"])]
    return {
        "n": a["n"], "modes": [a["mode"], b["mode"]],
        "metrics": {key: {"a": a.get(key), "b": b.get(key), "delta": delta(a.get(key), b.get(key))}
                    for key in COMPARED_METRICS},
        "per_label": {label: {key: {"a": a["per_label"][label][key],
                                    "b": b["per_label"][label][key],
                                    "delta": delta(a["per_label"][label][key],
                                                   b["per_label"][label][key])}
                              for key in ("precision", "recall", "f1")}
                      for label in shared},
        "only_in_a": [label for label in a["labels"] if label not in set(b["labels"])],
        "only_in_b": [label for label in b["labels"] if label not in set(a["labels"])],
    }


def tag_drift(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Any]:
    """How tags moved between two taggings of the same statements (tag tables, TAG_COLUMNS).

    Per kind: the share of statements whose label set changed; per label: statements that
    gained it, lost it, and its count before and after. "unassigned" counts as a label.
    """
    keys = ("statement_id", "kind")
    sets = []
    for frame in (before, after):
        grouped = frame.groupby(list(keys), sort=True)["label"].agg(frozenset)
        sets.append(grouped)
    if set(sets[0].index) != set(sets[1].index):
        raise InputFileError("the two taggings are not of the same statements; tag the same "
                             "file with both versions.", code="THM131")
    joined = pd.DataFrame({"before": sets[0], "after": sets[1].reindex(sets[0].index)})
    out: dict[str, Any] = {"statements": int(joined.index.get_level_values(0).nunique()),
                           "kinds": {}}
    for kind, part in joined.groupby(level="kind", sort=True):
        changed = [b != a for b, a in zip(part["before"], part["after"], strict=True)]
        labels = sorted(set().union(*part["before"], *part["after"]))
        per_label = {}
        for label in labels:
            had = np.array([label in s for s in part["before"]])
            has = np.array([label in s for s in part["after"]])
            per_label[label] = {"before": int(had.sum()), "after": int(has.sum()),
                                "gained": int((has & ~had).sum()),
                                "lost": int((had & ~has).sum())}
        out["kinds"][str(kind)] = {"changed_share": float(np.mean(changed)) if changed else 0.0,
                                   "changed": int(sum(changed)), "per_label": per_label}
    return out
