"""Helpers shared by the benchmarks: where the data lives, and a realistic statement corpus."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("THEMER_DATASETS", ROOT.parent / "shared" / "datasets"))


def public_statements(n: int, splitter: object) -> list[str]:
    """``n`` distinct real feedback statements from the public sets (reviews split first).

    Distinct, so that de-duplication gives the pipeline no unfair edge over raw encoding.
    """
    texts: list[str] = []
    for name, column in (("semeval16_laptops_train.csv", "text"),
                         ("semeval16_restaurants_train.csv", "text"),
                         ("app_review_sentences_panichella.csv", "text"),
                         ("github_issues_nlbse24_train.csv", "title"),
                         ("github_issues_nlbse24_test.csv", "title"),
                         ("semeval16_laptops_test.csv", "text"),
                         ("semeval16_restaurants_test.csv", "text")):
        texts += pd.read_csv(DATASETS / name, dtype=str)[column].dropna().tolist()
    for name in ("app_reviews_aurea_areas.csv", "app_reviews_maalej.csv"):
        reviews = pd.read_csv(DATASETS / name, dtype=str)["text"].dropna().tolist()
        for spans in splitter.split_many(reviews):  # type: ignore[attr-defined]
            texts += [s.text for s in spans]
    distinct = list(dict.fromkeys(" ".join(t.split()) for t in texts if len(t.split()) >= 2))
    if len(distinct) < n:
        raise SystemExit(f"only {len(distinct)} distinct statements available, asked for {n}")
    return distinct[:n]


def rss_mib() -> float:
    """This process's peak resident memory so far, MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
