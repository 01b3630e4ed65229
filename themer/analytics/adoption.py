"""Feature adoption: the satisfaction gap of each feature, a feature x segment heatmap, and the
usage x NPS quadrants.

* gap = NPS(adopters) - NPS(non-adopters), with its 95% interval, z-test p-value and a
  Benjamini-Hochberg q-value over all features (and over all cells of the heatmap);
* quadrant per feature: usage rate (share of respondents who adopted it) against NPS among its
  adopters; defaults: the median usage rate over the features and the overall NPS.

Adoption flags are segment columns named ``feature:NAME`` (in the response frame:
``segment:feature:NAME``; 1/0, true/false, yes/no, y/n; blank = unknown and left out): adopters
and non-adopters are a segment like any other. One survey group at a time, as everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

from themer.analytics.nps import Z95, nps_and_variance
from themer.analytics.segments import segment_names
from themer.errors import Errors
from themer.schema import NPS_GROUPS

__all__ = ["FeatureGap", "adoption_flags", "adoption_frame", "adoption_table", "gap_matrix",
           "quadrant"]

GROUPS = NPS_GROUPS
FEATURE_COLUMN = "segment:feature:"
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "f"})


def adoption_flags(values: pd.Series, name: str,
                   file_rows: Sequence[int] | None = None) -> pd.Series:
    """Boolean adoption per row (pandas 'boolean' dtype, <NA> for blank cells).

    ``file_rows``: the input file's row number of each value, for the error message.
    """
    text = values.astype("string").fillna("").str.strip().str.lower()
    bad = ~(text.isin(TRUE_WORDS | FALSE_WORDS) | (text == ""))
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        row = file_rows[first] if file_rows is not None else first + 1
        raise Errors.THM140.error(row=row, feature=name, value=values.iloc[first],
                                  count=int(bad.sum()))
    flags = pd.array(text.isin(TRUE_WORDS).to_numpy(), dtype="boolean")
    flags[(text == "").to_numpy()] = pd.NA
    return pd.Series(flags, index=values.index, name=name)


def quadrant(usage_rate: float, nps_users: float, *, usage_cut: float, nps_cut: float) -> str:
    """strength / hidden_gem / sunset_candidate / required_but_painful."""
    high_usage, high_nps = usage_rate >= usage_cut, nps_users >= nps_cut
    if high_usage:
        return "strength" if high_nps else "required_but_painful"
    return "hidden_gem" if high_nps else "sunset_candidate"


@dataclass(frozen=True)
class FeatureGap:
    feature: str
    segment: str | None  # None for the whole survey group
    adopters: int
    non_adopters: int
    usage_rate: float
    nps_adopters: float | None
    nps_non_adopters: float | None
    gap: float | None  # NPS(adopters) - NPS(non-adopters), points
    gap_ci_low: float | None
    gap_ci_high: float | None
    p_value: float | None
    q_value: float | None
    small_n: bool  # either side below min_n
    quadrant: str | None = None


def _gaps(categories: pd.Series, flags: pd.DataFrame, min_n: int, segment: str | None
          ) -> list[FeatureGap]:
    """One FeatureGap per flag column over the rows given (q-values filled by the caller)."""
    out = []
    for name in flags.columns:
        known = flags[name].notna().to_numpy()
        used = flags[name].fillna(False).to_numpy(dtype=bool)
        counts = np.zeros((2, 3), dtype=np.int64)
        for k, group in enumerate(GROUPS):
            is_group = (categories == group).to_numpy()
            counts[0, k] = int((is_group & used & known).sum())
            counts[1, k] = int((is_group & ~used & known).sum())
        score, variance = nps_and_variance(counts)
        n_in, n_out = int(counts[0].sum()), int(counts[1].sum())
        both = n_in > 0 and n_out > 0
        diff = float(score[0] - score[1]) if both else None
        se = float(np.sqrt(variance.sum())) if both else None
        p = (float(2 * norm.sf(abs(diff) / se)) if diff is not None and se else
             1.0 if both else None)
        out.append(FeatureGap(
            feature=str(name), segment=segment, adopters=n_in, non_adopters=n_out,
            usage_rate=n_in / (n_in + n_out) if n_in + n_out else 0.0,
            nps_adopters=float(score[0]) if n_in else None,
            nps_non_adopters=float(score[1]) if n_out else None, gap=diff,
            gap_ci_low=None if diff is None or se is None else diff - Z95 * se,
            gap_ci_high=None if diff is None or se is None else diff + Z95 * se,
            p_value=p, q_value=None, small_n=min(n_in, n_out) < min_n))
    return out


def _with_q_values(gaps: list[FeatureGap]) -> list[FeatureGap]:
    family = [i for i, g in enumerate(gaps) if g.p_value is not None and not g.small_n]
    q = multipletests([gaps[i].p_value for i in family], method="fdr_bh")[1] if family else []
    out = list(gaps)
    for i, value in zip(family, q, strict=True):
        out[i] = _replace(gaps[i], q_value=float(value))
    return out


def _replace(gap: FeatureGap, **changes: Any) -> FeatureGap:
    return FeatureGap(**{**asdict(gap), **changes})


def adoption_frame(responses: pd.DataFrame, features: Sequence[str] | None = None
                   ) -> pd.DataFrame:
    """One boolean column per feature (<NA> = unknown), from the ``feature:NAME`` segments."""
    available = [c.removeprefix(FEATURE_COLUMN) for c in responses.columns
                 if c.startswith(FEATURE_COLUMN)]
    chosen = list(features) if features is not None else available
    if not chosen:
        raise Errors.THM141.error()
    missing = [f for f in chosen if f not in available]
    if missing:
        raise Errors.THM142.error(features=missing, available=available)
    rows = responses["row"].tolist() if "row" in responses.columns else None
    return pd.DataFrame({name: adoption_flags(responses[FEATURE_COLUMN + name], name, rows)
                         for name in chosen})


def adoption_table(responses: pd.DataFrame, features: Sequence[str] | None = None, *,
                   min_n: int = 30, usage_cut: float | None = None,
                   nps_cut: float | None = None) -> list[FeatureGap]:
    """Satisfaction gap and usage x NPS quadrant of each feature, worst gap first."""
    flags = adoption_frame(responses, features)
    gaps = _with_q_values(_gaps(responses["category"], flags, min_n, None))
    counts = np.asarray([[int((responses["category"] == g).sum()) for g in GROUPS]])
    overall = float(nps_and_variance(counts)[0][0])
    usage = usage_cut if usage_cut is not None else float(
        np.median([g.usage_rate for g in gaps]))
    cut = nps_cut if nps_cut is not None else overall
    placed = [_replace(g, quadrant=None if g.nps_adopters is None else quadrant(
        g.usage_rate, g.nps_adopters, usage_cut=usage, nps_cut=cut)) for g in gaps]
    return sorted(placed, key=lambda g: (g.gap is None, g.gap if g.gap is not None else 0.0,
                                         g.feature))


def gap_matrix(responses: pd.DataFrame, segment: str, features: Sequence[str] | None = None,
               *, min_n: int = 30) -> tuple[pd.DataFrame, list[FeatureGap]]:
    """Feature x segment-value heatmap of satisfaction gaps (NaN where a side is empty or small),
    and the cells with BH q-values over the whole matrix."""
    column = f"segment:{segment}"
    if column not in responses.columns:
        raise Errors.THM136.error(segments=[segment], available=segment_names(responses))
    flags = adoption_frame(responses, features)
    values = responses[column].astype("string").fillna("").str.strip()
    cells: list[FeatureGap] = []
    for value in sorted(v for v in values.unique() if v):
        rows = (values == value).to_numpy()
        cells += _gaps(responses["category"][rows], flags[rows], min_n, str(value))
    cells = _with_q_values(cells)
    matrix = pd.DataFrame(
        [{"feature": c.feature, "segment": c.segment,
          "gap": np.nan if c.gap is None or c.small_n else c.gap} for c in cells])
    heat = matrix.pivot(index="feature", columns="segment", values="gap")
    return heat.reindex(index=list(flags.columns)), cells
