"""NPS over time: per month or quarter, with 95% intervals and the change from the period before.

Each change carries its 95% interval, a two-sided z-test p-value (independent periods) and a
Benjamini-Hochberg q-value over all the changes shown, so a noisy month-to-month wiggle is not
read as a trend. One survey group at a time. Theme-level trends (share and NPS per theme per
period, decomposition of the change, spike alerts) build on this and the tag table (issue 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

from themer.errors import InputFileError
from themer.segments import category_counts
from themer.stats.nps import Z95, nps_and_variance, nps_interval

__all__ = ["PeriodRow", "nps_by_period"]



@dataclass(frozen=True)
class PeriodRow:
    period: str
    n: int
    nps: float
    ci_low: float
    ci_high: float
    change: float | None  # NPS - NPS of the previous period with responses
    change_ci_low: float | None
    change_ci_high: float | None
    p_value: float | None
    q_value: float | None
    small_n: bool


def nps_by_period(responses: pd.DataFrame, period: Literal["month", "quarter"] = "month", *,
                  min_n: int = 30) -> list[PeriodRow]:
    """NPS per calendar period of the ``date`` column (rows without a date are left out)."""
    if "date" not in responses.columns or responses["date"].isna().all():
        raise InputFileError("no response dates: pass --date-col COLUMN (the date each "
                             "response was given).", code="THM145")
    dates = pd.to_datetime(responses["date"], errors="coerce")
    known = dates.notna()
    if not known.any():
        raise InputFileError(f"no parseable response dates (first value: "
                             f"{responses['date'].iloc[0]!r}); pass --date-col with ISO dates "
                             "such as 2025-03-31.", code="THM145")
    periods = dates.dt.to_period("M" if period == "month" else "Q").astype("string")
    counts = category_counts(periods.where(known), responses["category"])
    matrix = counts.to_numpy(dtype=np.int64)
    score, variance = nps_and_variance(matrix)
    n = matrix.sum(axis=1)
    change = np.full(len(matrix), np.nan)
    change_se = np.full(len(matrix), np.nan)
    change[1:] = score[1:] - score[:-1]
    change_se[1:] = np.sqrt(variance[1:] + variance[:-1])
    small = n < min_n
    testable = ~np.isnan(change) & ~small & np.concatenate([[False], ~small[:-1]]) & (
        change_se > 0)
    p_values = np.full(len(matrix), np.nan)
    p_values[testable] = 2 * norm.sf(np.abs(change[testable]) / change_se[testable])
    q_values = np.full(len(matrix), np.nan)
    if testable.any():
        q_values[testable] = multipletests(p_values[testable], method="fdr_bh")[1]
    low, high = nps_interval(score, variance)

    def value(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    return [PeriodRow(
        period=str(label), n=int(n[i]), nps=float(score[i]),
        ci_low=float(low[i]), ci_high=float(high[i]), change=value(change[i]),
        change_ci_low=value(change[i] - Z95 * change_se[i]),
        change_ci_high=value(change[i] + Z95 * change_se[i]),
        p_value=value(p_values[i]), q_value=value(q_values[i]), small_n=bool(small[i]),
    ) for i, label in enumerate(counts.index)]
