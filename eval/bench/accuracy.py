"""Accuracy of themer's tags on the public labelled sets, every method on the same folds.

For each set (with its taxonomy in eval/taxonomies/, written from the label definitions) this
runs, through the same library call as ``themer eval``:
  * zero-shot on whole texts and zero-shot statement by statement (``--split``),
  * ``--cv 5``: the trained head (frozen MiniLM embeddings + calibrated logistic OvR,
    per-label cuts tuned in inner CV) with the baselines on the same folds: majority class and
    TF-IDF + logistic regression (given the same inner-CV cut tuning).
It prints one table (macro-F1, micro-F1, ECE, theme-NPS median abs error) and, as the ratio the
benchmarks report, head macro-F1 minus and over TF-IDF + LR macro-F1 on each set.

    python eval/bench/accuracy.py [--only maalej,panichella] [--markdown eval/results.md]

Reads ../shared/datasets (or THEMER_DATASETS); embeddings come from the themer cache, so a
second run only re-trains. SetFit is not run: it is not installed here (see eval/README.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.common import DATASETS, ROOT, write_markdown
from themer.config import Settings
from themer.errors import ThemerError
from themer.evaluation.harness import evaluate_table
from themer.ingest import text_list
from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import CachedEncoder, SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.training import label_matrix
from themer.taxonomy import LabelKind, TaxonomyInfo, load_taxonomy


@dataclass(frozen=True)
class LabelledSet:
    name: str
    file: str
    label_col: str
    sep: str | None
    kind: LabelKind
    taxonomy: str
    score_col: str | None = None
    title_col: str | None = None  # prepended to the text (GitHub issues: title + body)


SETS = [
    LabelledSet("maalej", "app_reviews_maalej.csv", "labels", ";", "type",
                "app_review_types.yaml", score_col="stars"),
    LabelledSet("panichella", "app_review_sentences_panichella.csv", "label", None, "type",
                "app_review_intents.yaml"),
    LabelledSet("github", "github_issues_nlbse24_test.csv", "label", None, "type",
                "github_issue_types.yaml", title_col="title"),
    LabelledSet("aurea", "app_reviews_aurea_areas.csv", "labels", ";", "area",
                "app_review_areas.yaml", score_col="stars"),
    LabelledSet("restaurants", "semeval16_restaurants_train.csv", "categories", ";", "area",
                "restaurant_aspects.yaml"),
]


def load(spec: LabelledSet) -> pd.DataFrame:
    frame = pd.read_csv(DATASETS / spec.file, dtype=str, keep_default_na=False)
    if spec.title_col is not None:
        frame["text"] = frame[spec.title_col] + "\n" + frame["body"]
    return frame


def cached_encoder() -> CachedEncoder:
    settings = Settings()
    return CachedEncoder(SentenceTransformerEncoder(settings.model or None),
                         EmbeddingCache(settings.cache_dir / "embeddings"))


@dataclass(frozen=True)
class Labelled:
    """One set ready for the variant benchmarks: gold matrix, its labels and the texts."""

    spec: LabelledSet
    taxonomy: TaxonomyInfo
    gold: np.ndarray
    labels: list[str]
    texts: list[str]


def load_labelled(name: str) -> Labelled:
    spec = next(s for s in SETS if s.name == name)
    frame = load(spec)
    taxonomy = load_taxonomy(ROOT / "eval" / "taxonomies" / spec.taxonomy)
    gold, labels, kept = label_matrix(frame, spec.label_col, spec.sep or "",
                                      taxonomy.taxonomy.label_ids(spec.kind), spec.file,
                                      normalize=True)
    return Labelled(spec, taxonomy, gold, labels, text_list(frame["text"].iloc[kept]))


def run_set(spec: LabelledSet, encoder: CachedEncoder, splitter: StatementSplitter
            ) -> list[dict[str, Any]]:
    frame = load(spec)
    common = {"text_col": "text", "label_col": spec.label_col, "labels_sep": spec.sep,
                  "kind": spec.kind, "taxonomy": load_taxonomy(ROOT / "eval" / "taxonomies" /
                                                         spec.taxonomy),
                  "encoder": encoder, "source": spec.file, "score_col": spec.score_col,
                  "scale": "stars5", "normalize_labels": True}
    rows = []
    for label, extra in (("zero-shot", {}), ("zero-shot+split", {"splitter": splitter})):
        started = time.perf_counter()
        report = evaluate_table(frame, **common, **extra)  # type: ignore[arg-type]
        rows.append(_row(spec, label, report, time.perf_counter() - started))
    started = time.perf_counter()
    report = evaluate_table(frame, **common, cv=5, baselines=True)  # type: ignore[arg-type]
    rows.append(_row(spec, "head (cv5)", report, time.perf_counter() - started))
    for name, base in report["baselines"].items():
        if name != "zero_shot":  # same as the zero-shot row above
            rows.append(_row(spec, name, base, None))
    return rows


def _row(spec: LabelledSet, method: str, report: dict[str, Any],
         seconds: float | None) -> dict[str, Any]:
    return {"set": spec.name, "n": report["n"], "labels": len(report["labels"]),
            "method": method, "macro_f1": report["macro_f1"], "micro_f1": report["micro_f1"],
            "abstain": report["abstain_rate"], "ece": report["ece"],
            "nps_err": report.get("theme_nps_median_abs_error"), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated set names")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    args = parser.parse_args()
    wanted = set(filter(None, args.only.split(",")))
    encoder = cached_encoder()
    splitter = StatementSplitter(splitter=Settings().splitter)
    rows: list[dict[str, Any]] = []
    for spec in SETS:
        if wanted and spec.name not in wanted:
            continue
        try:
            rows += run_set(spec, encoder, splitter)
        except ThemerError as exc:  # report it and go on with the other sets
            print(f"{spec.name}: {exc}", file=sys.stderr, flush=True)
            continue
        print(f"done {spec.name}", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    # Sets without a score column have no NPS error: None -> NaN, so the column stays numeric.
    table[["nps_err", "seconds"]] = table[["nps_err", "seconds"]].apply(pd.to_numeric)
    shown = table.assign(
        macro_f1=table["macro_f1"].round(3), micro_f1=table["micro_f1"].round(3),
        abstain=(100 * table["abstain"]).round(1), ece=table["ece"].round(3),
        nps_err=table["nps_err"].round(1), seconds=table["seconds"].round(1))
    print(shown.to_string(index=False))
    print("\nhead vs TF-IDF + LR (same folds), macro-F1 difference and ratio:")
    for name, part in table.groupby("set", sort=False):
        head = float(part.loc[part["method"] == "head (cv5)", "macro_f1"].iloc[0])
        tfidf = float(part.loc[part["method"] == "tfidf_lr", "macro_f1"].iloc[0])
        print(f"  {name}: {head:.3f} vs {tfidf:.3f}: {head - tfidf:+.3f}, "
              f"ratio {head / tfidf:.3f}")
    if args.markdown is not None:
        write_markdown(shown, args.markdown)


if __name__ == "__main__":
    main()
