"""Product-market-fit signals from NPS: promoter share per cohort against the 40% line, and how
much NPS varies across the values of a segment (fit in only some segments shows as variance).

Also the side-by-side view of survey types (relationship vs transactional feature surveys): each
type's NPS with its own interval, never averaged together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from statsmodels.stats.proportion import proportion_confint

from themer.analytics.nps import nps_and_variance, nps_interval
from themer.analytics.segments import category_counts, segment_names
from themer.errors import Errors

__all__ = ["CohortFit", "SegmentSpread", "TypeNps", "by_survey_type", "cohort_fit",
           "segment_spread"]

PMF_LINE = 0.40


def _counts(responses: pd.DataFrame, column: str) -> pd.DataFrame:
    return category_counts(responses[column], responses["category"])


@dataclass(frozen=True)
class CohortFit:
    cohort: str
    n: int
    promoter_share: float
    ci_low: float  # Wilson 95% interval of the promoter share
    ci_high: float
    signal: str  # above_40 | below_40 | unclear (the interval straddles 40%)
    small_n: bool


def cohort_fit(responses: pd.DataFrame, column: str = "segment:cohort", *,
               min_n: int = 30, line: float = PMF_LINE) -> list[CohortFit]:
    """Promoter share per cohort with a Wilson interval, read against the PMF line."""
    if column not in responses.columns:
        raise Errors.THM146.error(column=column)
    counts = _counts(responses, column)
    out = []
    for cohort, row in counts.iterrows():
        n = int(row.sum())
        low, high = proportion_confint(int(row["promoter"]), n, alpha=0.05, method="wilson")
        signal = "above_40" if low > line else "below_40" if high < line else "unclear"
        out.append(CohortFit(str(cohort), n, float(row["promoter"]) / n, float(low),
                             float(high), signal, n < min_n))
    return out


@dataclass(frozen=True)
class SegmentSpread:
    segment: str
    values: int
    nps_min: float
    nps_max: float
    weighted_sd: float  # SD of the values' NPS, weighted by n, in points
    chi2_p_value: float  # homogeneity of the promoter/passive/detractor mix across values


def segment_spread(responses: pd.DataFrame, segment: str) -> SegmentSpread:
    """How unevenly NPS is spread over a segment's values (a chi-square test of the mix)."""
    column = f"segment:{segment}"
    if column not in responses.columns:
        raise Errors.THM136.error(segments=[segment], available=segment_names(responses))
    counts = _counts(responses, column)
    if len(counts) < 2:
        raise Errors.THM147.error(segment=segment)
    matrix = counts.to_numpy(dtype=np.int64)
    score, _ = nps_and_variance(matrix)
    weights = matrix.sum(axis=1)
    mean = np.average(score, weights=weights)
    spread = float(np.sqrt(np.average((score - mean) ** 2, weights=weights)))
    used = matrix[:, matrix.sum(axis=0) > 0]  # a group nobody is in has no expected count
    p = float(chi2_contingency(used).pvalue) if used.shape[1] > 1 else 1.0
    return SegmentSpread(segment, len(counts), float(score.min()), float(score.max()), spread, p)


@dataclass(frozen=True)
class TypeNps:
    survey_type: str
    n: int
    nps: float
    ci_low: float
    ci_high: float


def by_survey_type(responses: pd.DataFrame) -> list[TypeNps]:
    """Each survey type's NPS beside the others (relationship vs transactional), not averaged."""
    counts = _counts(responses, "survey_type")
    score, variance = nps_and_variance(counts.to_numpy(dtype=np.int64))
    low, high = nps_interval(score, variance)
    return [TypeNps(str(t), int(counts.iloc[i].sum()), float(score[i]), float(low[i]),
                    float(high[i])) for i, t in enumerate(counts.index)]
