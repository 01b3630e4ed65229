"""Did the launch or the fix work? Before/after comparisons around a date.

- ``launch_check``: NPS of a set of respondents (e.g. users of feature X) in a window before a
  launch date vs the same window after it: difference, 95% CI and two-sided z-test (the NPS
  difference of two independent groups, as everywhere in themer).
- ``fix_check``: a theme's share of detractor comments before vs after a fix date ("30% -> 5%"),
  with a two-proportion z-test (statsmodels) and a 95% interval of the change.

The after window starts on the date itself. Neither proves cause: other things change too; the
report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from themer.analytics.nps import Z95, nps_and_variance, nps_interval
from themer.analytics.segments import category_counts
from themer.analytics.themes import mention_rows
from themer.analytics.trends import response_dates
from themer.errors import Errors
from themer.schema import NPS_GROUPS

__all__ = ["FixCheck", "LaunchCheck", "fix_check", "launch_check", "window_masks"]


def window_masks(responses: pd.DataFrame, when: date, window_days: int | None
                 ) -> tuple[pd.Series, pd.Series]:
    """(before, after) masks: [when - window, when) and [when, when + window); None = all."""
    if window_days is not None and window_days < 1:
        raise Errors.THM150.error(days=window_days)
    dates = response_dates(responses)
    start = pd.Timestamp(when)
    before = dates < start
    after = dates >= start
    if window_days is not None:
        span = pd.Timedelta(timedelta(days=window_days))
        before &= dates >= start - span
        after &= dates < start + span
    return before.fillna(False), after.fillna(False)


@dataclass(frozen=True)
class LaunchCheck:
    date: str
    window_days: int | None
    n_before: int
    n_after: int
    nps_before: float | None
    nps_after: float | None
    ci_before: tuple[float, float] | None
    ci_after: tuple[float, float] | None
    change: float | None
    change_ci_low: float | None
    change_ci_high: float | None
    p_value: float | None
    small_n: bool  # a side below min_n: shown, not tested


def launch_check(responses: pd.DataFrame, when: date, *, window_days: int | None = 30,
                 where: pd.Series | None = None, min_n: int = 30) -> LaunchCheck:
    """NPS before vs after ``when`` among the rows where ``where`` is true (all rows if None)."""
    before, after = window_masks(responses, when, window_days)
    if where is not None:
        before, after = before & where, after & where
    side = pd.Series(np.where(before, "before", np.where(after, "after", "")),
                     index=responses.index)
    counts = category_counts(side, responses["category"]).reindex(
        ["before", "after"], fill_value=0).to_numpy(dtype=np.int64)
    n = counts.sum(axis=1)
    small = bool((n < min_n).any())
    present = n > 0
    score = np.full(2, np.nan)
    variance = np.full(2, np.nan)
    if present.any():
        score[present], variance[present] = nps_and_variance(counts[present])
    low, high = nps_interval(score, variance)
    change = se = p = None
    if present.all():
        change = float(score[1] - score[0])
        se = float(np.sqrt(variance.sum()))
        if not small and se > 0:
            p = float(2 * norm.sf(abs(change) / se))
    return LaunchCheck(
        date=when.isoformat(), window_days=window_days, n_before=int(n[0]), n_after=int(n[1]),
        nps_before=_maybe(score[0]), nps_after=_maybe(score[1]),
        ci_before=(float(low[0]), float(high[0])) if present[0] else None,
        ci_after=(float(low[1]), float(high[1])) if present[1] else None,
        change=change,
        change_ci_low=None if change is None or se is None else change - Z95 * se,
        change_ci_high=None if change is None or se is None else change + Z95 * se,
        p_value=p, small_n=small)


@dataclass(frozen=True)
class FixCheck:
    theme: str
    date: str
    window_days: int | None
    among: str
    comments_before: int  # respondents of that group who left a comment, before
    comments_after: int
    mentions_before: int
    mentions_after: int
    share_before: float | None
    share_after: float | None
    change: float | None  # share after - share before (0-1)
    change_ci_low: float | None
    change_ci_high: float | None
    p_value: float | None
    small_n: bool


def fix_check(responses: pd.DataFrame, commenters: pd.Series, mentions: pd.DataFrame,
              theme: str, when: date, *, window_days: int | None = None,
              among: str = "detractor", min_n: int = 30) -> FixCheck:
    """Share of ``among`` respondents' comments that mention ``theme``, before vs after.

    ``commenters``: boolean per response row, true where the respondent left any comment (the
    denominator). ``mentions``: response_id + theme. ``among``: an NPS group, or "all".
    """
    if among not in (*NPS_GROUPS, "all"):
        raise Errors.THM151.error(among=among)
    before, after = window_masks(responses, when, window_days)
    base = commenters.astype(bool)
    if among != "all":
        base &= responses["category"] == among
    rows = mention_rows(mentions, responses)
    chosen = rows[(mentions["theme"] == theme).to_numpy() & (rows >= 0)]
    named = pd.Series(np.bincount(chosen, minlength=len(responses)) > 0, index=responses.index)
    counts = np.array([int((base & before).sum()), int((base & after).sum())])
    hits = np.array([int((base & before & named).sum()), int((base & after & named).sum())])
    shares = [float(h / c) if c else None for h, c in zip(hits, counts, strict=True)]
    small = bool((counts < min_n).any())
    change = low = high = p = None
    if counts.all():
        change = float(hits[1] / counts[1] - hits[0] / counts[0])
        low, high = (float(x) for x in confint_proportions_2indep(
            hits[1], counts[1], hits[0], counts[0], method="wald"))
        if not small and 0 < hits.sum() < counts.sum():
            p = float(proportions_ztest(hits[::-1], counts[::-1])[1])
    return FixCheck(theme=theme, date=when.isoformat(), window_days=window_days, among=among,
                    comments_before=int(counts[0]), comments_after=int(counts[1]),
                    mentions_before=int(hits[0]), mentions_after=int(hits[1]),
                    share_before=shares[0], share_after=shares[1], change=change,
                    change_ci_low=low, change_ci_high=high, p_value=p, small_n=small)


def _maybe(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
