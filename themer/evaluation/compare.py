"""Before and after: two evaluation reports of the same data, two taggings of the same text.

``compare_reports`` gives B minus A for the headline metrics and per-label scores of two
``themer eval`` JSON reports; ``tag_drift`` says how tags moved between two taggings of the
same statements (a taxonomy edit, a new head). Both refuse inputs that are not of the same
data: a difference between different data sets means nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from themer.errors import Errors

__all__ = ["COMPARED_METRICS", "compare_reports", "tag_drift"]

COMPARED_METRICS = ("macro_f1", "micro_f1", "abstain_rate", "ece", "brier",
                    "theme_nps_median_abs_error", "impact_rank_spearman")


def _delta(x: Any, y: Any) -> float | None:
    return None if x is None or y is None else float(y) - float(x)


def compare_reports(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """B minus A for the headline metrics and per label F1/precision/recall.

    Labels present in only one report are listed, not compared. Both reports must be of the
    same data (same n): a difference between different data sets means nothing.
    """
    for name, report in (("A", a), ("B", b)):
        missing = [key for key in ("n", "mode", "labels", "per_label") if key not in report]
        if missing:
            raise Errors.THM129.error(name=name, missing=missing)
    if a["n"] != b["n"]:
        raise Errors.THM130.error(a=a["n"], b=b["n"])
    shared = [label for label in a["labels"] if label in set(b["labels"])]
    return {
        "n": a["n"], "modes": [a["mode"], b["mode"]],
        "metrics": {key: {"a": a.get(key), "b": b.get(key), "delta": _delta(a.get(key), b.get(key))}
                    for key in COMPARED_METRICS},
        "per_label": {label: {key: {"a": a["per_label"][label][key],
                                    "b": b["per_label"][label][key],
                                    "delta": _delta(a["per_label"][label][key],
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
        raise Errors.THM131.error()
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
