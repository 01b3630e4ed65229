"""Promoters vs detractors on behavioural columns ("promoters log in 6 times a week, detractors 2").

Per numeric column: count, mean and median in each group, the difference of means, the
rank-biserial correlation as effect size (from the Mann-Whitney U statistic: robust to the skewed
counts usage data has), the Mann-Whitney two-sided p-value (scipy) and a Benjamini-Hochberg
q-value over the columns compared (statsmodels). Passives are left out of the contrast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu
from statsmodels.stats.multitest import multipletests

from themer.errors import Errors

__all__ = ["BehaviourRow", "behaviour_table"]


@dataclass(frozen=True)
class BehaviourRow:
    measure: str
    promoters_n: int
    detractors_n: int
    promoters_mean: float | None
    detractors_mean: float | None
    promoters_median: float | None
    detractors_median: float | None
    mean_difference: float | None  # promoters - detractors
    rank_biserial: float | None  # in [-1, 1]; > 0 = promoters tend to have higher values
    p_value: float | None
    q_value: float | None
    small_n: bool
    not_numeric: int = 0  # filled cells that are not numbers: left out, and reported


def behaviour_table(responses: pd.DataFrame, measures: Mapping[str, pd.Series], *,
                    min_n: int = 30) -> list[BehaviourRow]:
    """Compare promoters and detractors on each measure (a numeric Series aligned with
    ``responses``; missing or non-numeric values are left out of that measure)."""
    if not measures:
        raise Errors.THM144.error()
    category = responses["category"].to_numpy()
    rows, p_values = [], []
    for name, series in measures.items():
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
        filled = series.notna().to_numpy() & (series.astype("string").str.strip() != "").fillna(
            False).to_numpy(dtype=bool)
        not_numeric = int((filled & np.isnan(values)).sum())
        known = ~np.isnan(values)
        promoters = values[known & (category == "promoter")]
        detractors = values[known & (category == "detractor")]
        both = len(promoters) > 0 and len(detractors) > 0
        p = r = None
        if both:
            test = mannwhitneyu(promoters, detractors, alternative="two-sided")
            # rank-biserial = 2U / (n1 n2) - 1, with U the promoters' statistic
            r = float(2 * test.statistic / (len(promoters) * len(detractors)) - 1)
            p = float(test.pvalue) if np.isfinite(test.pvalue) else 1.0
        small = min(len(promoters), len(detractors)) < min_n
        p_values.append(None if small else p)
        rows.append(BehaviourRow(
            measure=name, promoters_n=len(promoters), detractors_n=len(detractors),
            promoters_mean=_stat(np.mean, promoters), detractors_mean=_stat(np.mean, detractors),
            promoters_median=_stat(np.median, promoters),
            detractors_median=_stat(np.median, detractors),
            mean_difference=float(promoters.mean() - detractors.mean()) if both else None,
            rank_biserial=r, p_value=p, q_value=None, small_n=small, not_numeric=not_numeric))
    family = [i for i, p in enumerate(p_values) if p is not None]
    if family:
        q = multipletests([p_values[i] for i in family], method="fdr_bh")[1]
        for i, value in zip(family, q, strict=True):
            rows[i] = replace(rows[i], q_value=float(value))
    return rows


def _stat(function: Callable[[np.ndarray], Any], values: np.ndarray) -> float | None:
    return float(function(values)) if len(values) else None
