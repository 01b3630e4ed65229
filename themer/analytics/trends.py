"""NPS over time: per month or quarter, with 95% intervals and the change from the period before.

Each change carries its 95% interval, a two-sided z-test p-value (independent periods) and a
Benjamini-Hochberg q-value over all the changes shown, so a noisy month-to-month wiggle is not
read as a trend. One survey group at a time.

Per theme: share of respondents and NPS per period (``theme_trends``), spike alerts when a
theme's share leaves its recent band (``spike_alerts``), and each period's change of overall NPS
split into theme share and score effects that add up to it exactly (``change_decomposition``,
see themer.analytics.attribution).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import binom, norm
from statsmodels.stats.multitest import multipletests

from themer.analytics.attribution import decompose, theme_mix
from themer.analytics.nps import Z95, nps_and_variance, nps_interval
from themer.analytics.segments import GROUPS, as_categories, category_counts
from themer.analytics.themes import mention_rows
from themer.errors import Errors

__all__ = ["PeriodRow", "SpikeAlert", "change_decomposition", "nps_by_period", "period_labels",
           "spike_alerts", "theme_trends"]


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


def response_dates(responses: pd.DataFrame) -> pd.Series:
    """Parsed ``date`` per response (NaT where missing); an error when no date parses."""
    if "date" not in responses.columns or responses["date"].isna().all():
        raise Errors.THM145.error(reason="no date column, or it is empty")
    dates = pd.to_datetime(responses["date"], errors="coerce")
    if not dates.notna().any():
        raise Errors.THM145.error(
            reason=f"none parses as a date (first value: {responses['date'].iloc[0]!r})")
    return dates


def period_labels(responses: pd.DataFrame, period: Literal["month", "quarter"]) -> pd.Series:
    """'2025-03' or '2025Q1' per response; missing where the date is."""
    dates = response_dates(responses)
    labels = dates.dt.to_period("M" if period == "month" else "Q").astype("string")
    return labels.where(dates.notna())


def nps_by_period(responses: pd.DataFrame, period: Literal["month", "quarter"] = "month", *,
                  min_n: int = 30) -> list[PeriodRow]:
    """NPS per calendar period of the ``date`` column (rows without a date are left out)."""
    counts = category_counts(period_labels(responses, period), responses["category"])
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


def theme_trends(responses: pd.DataFrame, mentions: pd.DataFrame,
                 period: Literal["month", "quarter"] = "month", *,
                 min_n: int = 30) -> pd.DataFrame:
    """Per (period, theme): respondents in the period, mentioners, share, NPS with 95% CI.

    ``mentions``: response_id + theme (distinct). Periods where a theme is not mentioned have
    mentions 0, share 0 and no NPS, so a theme's series has no holes for the spike band.
    ``small_n`` flags an NPS from fewer than ``min_n`` mentioners.
    """
    labels = period_labels(responses, period)
    categories = as_categories(responses["category"])
    period_n = labels.value_counts().sort_index()
    position = mention_rows(mentions, responses)
    known = position >= 0
    frame = pd.DataFrame({"period": labels.to_numpy()[position[known]],
                          "theme": mentions["theme"].to_numpy()[known],
                          "category": categories.to_numpy()[position[known]]}).dropna()
    counts = pd.crosstab([frame["period"], frame["theme"]], frame["category"], dropna=False)
    counts = counts.reindex(columns=GROUPS, fill_value=0)
    themes = sorted(frame["theme"].unique())
    grid = pd.MultiIndex.from_product([period_n.index, themes], names=["period", "theme"])
    counts = counts.reindex(grid, fill_value=0)
    matrix = counts.to_numpy(dtype=np.int64)
    n = matrix.sum(axis=1)
    table = counts.reset_index()[["period", "theme"]]
    table["period_n"] = period_n.reindex(table["period"]).to_numpy(dtype=np.int64)
    table["mentions"] = n
    table["share"] = n / table["period_n"]
    seen = n > 0
    score = np.full(len(matrix), np.nan)
    low = np.full(len(matrix), np.nan)
    high = np.full(len(matrix), np.nan)
    if seen.any():
        score[seen], variance = nps_and_variance(matrix[seen])
        low[seen], high[seen] = nps_interval(score[seen], variance)
    table["nps"], table["ci_low"], table["ci_high"] = score, low, high
    table["small_n"] = n < min_n
    return table


@dataclass(frozen=True)
class SpikeAlert:
    period: str
    theme: str
    share: float
    mentions: int
    period_n: int
    band_mean: float  # mean share over the previous periods in the window
    band_sd: float
    threshold: float  # band_mean + sds x max(band_sd, binomial SE of band_mean at this n)
    history: int  # previous periods the band was built from
    p_value: float  # one-sided binomial test of the share against band_mean
    q_value: float  # Benjamini-Hochberg over every (theme, period) cell that had a band
    confirmed: bool  # q_value < alpha as well: not one of the many chance hits


def spike_alerts(trends: pd.DataFrame, *, window: int = 6, min_history: int = 3,
                 sds: float = 2.0, min_n: int = 30, alpha: float = 0.05) -> list[SpikeAlert]:
    """Periods where a theme's share is above mean + ``sds`` SD of its previous ``window``.

    Needs ``min_history`` earlier periods and ``min_n`` respondents in the period. The SD has
    a floor of the binomial standard error of the band mean at the period's n: a theme that was
    flat at 2% would otherwise "spike" on one extra mention. With 20 themes x 12 months the
    rule alone fires by chance several times a year, so every alert also carries a binomial
    p-value and a BH q-value over all the cells checked; ``confirmed`` alerts survive it.
    """
    if window < 2 or min_history < 2 or min_history > window:
        raise Errors.THM417.error()
    ordered = trends.sort_values(["theme", "period"]).reset_index(drop=True)
    by_theme = ordered.groupby("theme", sort=False)["share"]
    previous = by_theme.shift(1)
    rolling = previous.groupby(ordered["theme"], sort=False).rolling(
        window, min_periods=min_history)
    mean = rolling.mean().reset_index(level=0, drop=True).sort_index()
    sd = rolling.std(ddof=1).reset_index(level=0, drop=True).sort_index()
    count = rolling.count().reset_index(level=0, drop=True).sort_index()
    n = ordered["period_n"].to_numpy()
    floor = np.sqrt(mean * (1 - mean) / np.maximum(n, 1))
    threshold = mean + sds * np.maximum(sd.fillna(0.0), floor)
    checked = (mean.notna() & (n >= min_n)).to_numpy()
    p_values = np.full(len(ordered), np.nan)
    hits = ordered["mentions"].to_numpy()
    p_values[checked] = binom.sf(hits[checked] - 1, n[checked],
                                 np.clip(mean.to_numpy()[checked], 1e-12, 1.0))
    q_values = np.full(len(ordered), np.nan)
    if checked.any():
        q_values[checked] = multipletests(p_values[checked], method="fdr_bh")[1]
    alerts = [SpikeAlert(
        period=str(ordered["period"].iloc[i]), theme=str(ordered["theme"].iloc[i]),
        share=float(ordered["share"].iloc[i]), mentions=int(hits[i]), period_n=int(n[i]),
        band_mean=float(mean.iloc[i]), band_sd=float(sd.iloc[i]),
        threshold=float(threshold.iloc[i]), history=int(count.iloc[i]),
        p_value=float(p_values[i]), q_value=float(q_values[i]),
        confirmed=bool(q_values[i] < alpha),
    ) for i in np.flatnonzero(checked & (ordered["share"] > threshold).to_numpy())]
    alerts.sort(key=lambda a: (a.period, a.theme))
    return alerts


def change_decomposition(responses: pd.DataFrame, mentions: pd.DataFrame,
                         period: Literal["month", "quarter"] = "month") -> pd.DataFrame:
    """Each period's NPS change from the previous period, split per theme (share + score).

    Rows (period, previous, theme, share_effect, score_effect, total, ...) from
    ``attribution.decompose``; per period the totals add up to the NPS change exactly.
    """
    labels = period_labels(responses, period)
    mix = theme_mix(responses, mentions, labels)
    periods = sorted(mix["group"].unique())
    parts = []
    for previous, current in itertools.pairwise(periods):
        part = decompose(mix[mix["group"] == previous], mix[mix["group"] == current])
        part.insert(0, "previous", previous)
        part.insert(0, "period", current)
        part["change"] = part.attrs["change"]
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["period", "previous", "theme", "share_effect",
                                     "score_effect", "total", "change"])
    return pd.concat(parts, ignore_index=True)
