"""NPS arithmetic: pure functions, no I/O. Scores are grouped before they get here.

Categories on the 0-10 scale: promoter 9-10, passive 7-8, detractor 0-6.
NPS = 100 (P - D) / N; per-respondent value v in {+1, 0, -1}; Var(v) = p + d - (p - d)^2;
SE(NPS) = 100 sqrt(Var / n).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import norm

from themer.errors import Errors
from themer.schema import NPS_GROUPS, Category

__all__ = [
    "NPS_GROUPS",
    "Z95",
    "Category",
    "NpsSummary",
    "category_of",
    "impact",
    "nps",
    "nps_and_variance",
    "nps_ci",
    "nps_interval",
    "nps_se",
    "points_at_stake",
    "summarize",
]

Z95 = float(norm.ppf(0.975))  # two-sided 95% normal quantile, for every interval in themer


def category_of(score: int) -> Category:
    """NPS group of a 0-10 rating."""
    if not 0 <= score <= 10:
        raise Errors.THM402.error(score=score)
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def nps(promoters: int, passives: int, detractors: int) -> float:
    """Net Promoter Score in [-100, 100] from the three group counts."""
    n = promoters + passives + detractors
    if min(promoters, passives, detractors) < 0:
        raise Errors.THM403.error()
    if n == 0:
        raise Errors.THM401.error(function="nps")
    return 100.0 * (promoters - detractors) / n


def nps_se(promoters: int, passives: int, detractors: int) -> float:
    """Standard error of NPS in points: 100 sqrt((p + d - (p - d)^2) / n)."""
    n = promoters + passives + detractors
    if n == 0:
        raise Errors.THM401.error(function="nps_se")
    p, d = promoters / n, detractors / n
    variance = max(p + d - (p - d) ** 2, 0.0)  # clamp float noise just below zero
    return 100.0 * math.sqrt(variance / n)


def nps_ci(
    promoters: int, passives: int, detractors: int, *, level: float = 0.95
) -> tuple[float, float]:
    """Normal-approximation interval for NPS, clipped to [-100, 100]."""
    if not 0 < level < 1:
        raise Errors.THM404.error(level=level)
    centre = nps(promoters, passives, detractors)
    half = float(norm.ppf(0.5 + level / 2)) * nps_se(promoters, passives, detractors)
    return max(-100.0, centre - half), min(100.0, centre + half)


def nps_and_variance(counts: NDArray[np.integer[Any]]
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vectorised ``nps`` and ``nps_se ** 2`` for many groups at once.

    ``counts``: (groups, 3) promoters, passives, detractors. A group with no respondent gets
    NaN for both (the scalar functions raise instead).
    """
    counts = np.asarray(counts)
    n = counts.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p, d = counts[:, 0] / n, counts[:, 2] / n
        score = 100.0 * (p - d)
        variance = 1e4 * np.clip(p + d - (p - d) ** 2, 0.0, None) / n
    return score, variance


def nps_interval(score: NDArray[np.float64], variance: NDArray[np.float64]
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vectorised ``nps_ci`` (95%) from ``nps_and_variance``'s output, clipped to [-100, 100]."""
    half = Z95 * np.sqrt(variance)
    return np.maximum(-100.0, score - half), np.minimum(100.0, score + half)


def impact(theme: tuple[int, int, int], total: tuple[int, int, int]) -> float:
    """NPS(all) - NPS(all except the theme's respondents), in points.

    ``theme`` and ``total`` are (promoters, passives, detractors); the theme's respondents are a
    subset of the total. Equals (n_t / N) (NPS_t - NPS_rest).
    """
    rest = tuple(t - m for t, m in zip(total, theme, strict=True))
    if min(rest) < 0:
        raise Errors.THM405.error()
    if sum(rest) == 0:
        # Nobody is left out: removing the theme removes everyone. We define impact as 0
        # (no contrast exists) rather than inventing a baseline.
        return 0.0
    return nps(*total) - nps(*rest)


def points_at_stake(theme_detractors: int, total_n: int) -> float:
    """NPS points gained overall if the theme's detractors became passives: 100 D_t / N."""
    if total_n <= 0:
        raise Errors.THM401.error(function="points_at_stake")
    if not 0 <= theme_detractors <= total_n:
        raise Errors.THM406.error()
    return 100.0 * theme_detractors / total_n


@dataclass(frozen=True)
class NpsSummary:
    """NPS of one group with its 95% interval and counts."""

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float
    ci_low: float
    ci_high: float
    se: float


def summarize(categories: Iterable[Category], *, level: float = 0.95) -> NpsSummary:
    """Summary of a group of respondents given their NPS categories."""
    values = pd.Series(categories if isinstance(categories, pd.Series) else list(categories),
                       dtype=object)
    unknown = set(values.unique()) - set(NPS_GROUPS)
    if unknown:
        raise Errors.THM420.error(categories=sorted(map(str, unknown)))
    counts = values.value_counts()
    p, m, d = (int(counts.get(group, 0)) for group in NPS_GROUPS)
    low, high = nps_ci(p, m, d, level=level)
    return NpsSummary(
        n=p + m + d,
        promoters=p,
        passives=m,
        detractors=d,
        nps=nps(p, m, d),
        ci_low=low,
        ci_high=high,
        se=nps_se(p, m, d),
    )
