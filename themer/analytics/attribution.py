"""Who moves the score: overlap-aware theme attribution, and exact decompositions of NPS gaps.

Themes co-occur (one comment names search *and* performance), so per-theme figures that each
count a respondent in full double-count. Here every respondent who mentions k themes gives each
of them a weight of 1/k; respondents who mention none form the ``(no theme)`` group with weight 1.
Then, for any group of respondents,

    NPS = sum over themes t (incl. no theme) of W_t * S_t

with W_t = (sum of weights) / N (the shares add up to 1) and S_t = the weighted NPS of t's
mentioners. Three results follow, each adding up exactly:

- **Shapley impact** ``shapley_impact``: c_t = W_t * (S_t - S_none), summing to NPS - NPS(no theme).
  It is the Shapley value of the game "how much would NPS fall if the mentioners of a set of
  themes scored like respondents who mention nothing": each respondent's deviation from that
  baseline is shared equally among the themes they name (the leave-one-out ``impact`` of the
  theme table credits it to every one of them in full).
- **Regression impact** ``regression_impact``: OLS of the per-respondent value (+1/0/-1) on theme
  indicators; contribution b_t * share_t, summing to NPS - 100 * intercept (the model's score
  of a respondent who mentions nothing). Gives partial effects with robust standard errors.
- **Gap decomposition** ``decompose``: the difference between two groups (a segment and the
  rest, or this period and the last) split per theme into a *share* effect (the theme was
  mentioned more) and a *score* effect (its mentioners scored lower), midpoint weights, so the
  parts add up to the difference exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from themer.analytics.nps import Z95
from themer.analytics.themes import mention_rows
from themer.errors import Errors

__all__ = [
    "NO_THEME",
    "RegressionImpact",
    "RegressionRow",
    "decompose",
    "drivers_by_segment",
    "gap_drivers",
    "regression_impact",
    "respondent_values",
    "segment_drivers",
    "shapley_impact",
    "theme_mix",
]

NO_THEME = "(no theme)"
VALUES = {"promoter": 1.0, "passive": 0.0, "detractor": -1.0}


def respondent_values(categories: pd.Series) -> np.ndarray:
    """+1 / 0 / -1 per respondent (NPS = 100 x the mean)."""
    values = categories.map(VALUES)
    if values.isna().any():
        raise Errors.THM412.error()
    return np.asarray(values.to_numpy(dtype=float))


@dataclass(frozen=True)
class _Mentions:
    """What every mix needs, computed once per (responses, mentions)."""

    values: np.ndarray  # +1/0/-1 per respondent
    position: np.ndarray  # respondent row per mention
    theme: np.ndarray  # theme code per mention
    theme_names: np.ndarray
    weight: np.ndarray  # 1 / (themes the respondent names), per mention
    silent: np.ndarray  # respondent names no theme


def _prepare(responses: pd.DataFrame, mentions: pd.DataFrame) -> _Mentions:
    position = mention_rows(mentions, responses)
    known = position >= 0
    position = position[known]
    theme, names = pd.factorize(mentions["theme"].to_numpy(dtype=object)[known], sort=True)
    per_respondent = np.bincount(position, minlength=len(responses))
    return _Mentions(respondent_values(responses["category"]), position,
                     theme.astype(np.int64), np.asarray(names, dtype=object),
                     1.0 / per_respondent[position], per_respondent == 0)


def _group_codes(groups: pd.Series | None, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(code per respondent, -1 = left out; group names); blank or missing = left out."""
    if groups is None:
        return np.zeros(size, dtype=np.int64), np.array(["all"], dtype=object)
    labels = groups.astype("string").str.strip()
    codes, uniques = pd.factorize(labels.where(labels != ""), sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _mix(prepared: _Mentions, group: np.ndarray, names: np.ndarray) -> pd.DataFrame:
    keep = group >= 0
    chosen = keep[prepared.position]
    position = prepared.position[chosen]
    width = len(prepared.theme_names) + 1  # the last theme slot is NO_THEME
    silent = np.flatnonzero(keep & prepared.silent)
    weight = prepared.weight[chosen]
    key = np.concatenate([group[position] * width + prepared.theme[chosen],
                          group[silent] * width + width - 1])
    weights = np.concatenate([weight, np.ones(len(silent))])
    scores = np.concatenate([weight * prepared.values[position], prepared.values[silent]])
    size = len(names) * width
    n = np.bincount(key, minlength=size)
    filled = np.flatnonzero(n)
    if not len(filled):
        raise Errors.THM413.error()
    labels = np.append(prepared.theme_names, NO_THEME)
    mix = pd.DataFrame({
        "group": names[filled // width], "theme": labels[filled % width],
        "n": n[filled], "weight": np.bincount(key, weights=weights, minlength=size)[filled],
        "value": np.bincount(key, weights=scores, minlength=size)[filled]})
    sizes = np.bincount(group[keep], minlength=len(names)).astype(float)
    return _with_rates(mix, sizes[filled // width])


def theme_mix(responses: pd.DataFrame, mentions: pd.DataFrame,
              groups: pd.Series | None = None) -> pd.DataFrame:
    """Fractional share and weighted NPS of each theme within each group.

    ``responses``: response_id + category (one row per respondent). ``mentions``: response_id
    (or ``position``, see ``analyze.theme_mentions``) + theme, one row per distinct (respondent,
    theme); mentions of unknown respondents are ignored.
    ``groups``: a label per response row (aligned with ``responses``); None = one group "all";
    rows whose group is blank or missing are left out.
    Returns rows (group, theme, n, weight, value, share, score): n = mentioners, weight = sum
    of 1/k, value = sum of weight x (+1/0/-1), share = weight / group size, score = weighted
    NPS of the mentioners (points). n, weight and value add across groups.
    """
    return _mix(_prepare(responses, mentions), *_group_codes(groups, len(responses)))


def _with_rates(sums: pd.DataFrame, size: np.ndarray | float) -> pd.DataFrame:
    """share and score from the additive sums (n, weight, value) and the group size."""
    rated = sums.copy()
    rated["share"] = rated["weight"] / size
    rated["score"] = 100.0 * rated["value"] / rated["weight"]
    return rated


def shapley_impact(mix: pd.DataFrame) -> pd.DataFrame:
    """Per theme of one group's ``theme_mix``: Shapley contribution to NPS - NPS(no theme).

    Columns theme, n, share, score, contribution (points), sorted most negative first. The
    contributions add up to ``total`` in ``attrs`` (NPS of everyone minus NPS of respondents who
    mention no theme).
    """
    if mix["group"].nunique() != 1:
        raise Errors.THM414.error()
    silent = mix[mix["theme"] == NO_THEME]
    if silent.empty:
        raise Errors.THM415.error()
    baseline = float(silent["score"].iloc[0])
    themes = mix[mix["theme"] != NO_THEME].copy()
    themes["contribution"] = themes["share"] * (themes["score"] - baseline)
    overall = float((mix["share"] * mix["score"]).sum())
    table = (themes[["theme", "n", "share", "score", "contribution"]]
             .sort_values(["contribution", "theme"]).reset_index(drop=True))
    table.attrs.update(nps=overall, baseline=baseline, total=overall - baseline)
    return table


def decompose(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Split NPS(after) - NPS(before) into per-theme share and score effects that add up.

    ``before``/``after``: ``theme_mix`` rows of one group each (e.g. rest and segment, or the
    previous and this period). With midpoint weights (Bennet):

        share_effect_t = (W1 - W0) * ((S0 + S1) / 2 - (NPS0 + NPS1) / 2)
        score_effect_t = (S1 - S0) * (W0 + W1) / 2

    Centring the share effect on the mean NPS changes no total (the shares' changes sum to 0)
    but makes it readable: a theme scoring below average that gains share pulls NPS down.
    A theme absent on one side takes the other side's score (its change is all share).
    """
    nps_before = float((before["share"] * before["score"]).sum())
    nps_after = float((after["share"] * after["score"]).sum())
    keys = ["theme", "n", "share", "score"]
    joined = before[keys].merge(after[keys], on="theme", how="outer", suffixes=("_0", "_1"))
    for side in ("0", "1"):
        joined[f"n_{side}"] = joined[f"n_{side}"].fillna(0).astype(np.int64)
        joined[f"share_{side}"] = joined[f"share_{side}"].fillna(0.0)
    joined["score_0"] = joined["score_0"].fillna(joined["score_1"])
    joined["score_1"] = joined["score_1"].fillna(joined["score_0"])
    centre = (nps_before + nps_after) / 2
    joined["share_effect"] = (joined["share_1"] - joined["share_0"]) * (
        (joined["score_0"] + joined["score_1"]) / 2 - centre)
    joined["score_effect"] = (joined["score_1"] - joined["score_0"]) * (
        joined["share_0"] + joined["share_1"]) / 2
    joined["total"] = joined["share_effect"] + joined["score_effect"]
    table = joined.sort_values(["total", "theme"]).reset_index(drop=True)
    table.attrs.update(nps_before=nps_before, nps_after=nps_after,
                       change=nps_after - nps_before)
    return table


def segment_drivers(responses: pd.DataFrame, mentions: pd.DataFrame, segment: pd.Series
                    ) -> dict[str, pd.DataFrame]:
    """For every value of a segment column: which themes make it differ from the rest.

    Each value's table is ``decompose(rest, value)``, where the rest is every other respondent
    (blank segment values included, as in ``segments.segment_table``): the totals add up to
    that table's ``diff``. Most negative totals first: the themes that pull the segment below
    the rest, by being mentioned more (share effect) or by scoring lower when they are (score
    effect).
    """
    return drivers_by_segment(responses, mentions, {"segment": segment})["segment"]


def drivers_by_segment(responses: pd.DataFrame, mentions: pd.DataFrame,
                       segments: Mapping[str, pd.Series]) -> dict[str, dict[str, pd.DataFrame]]:
    """``segment_drivers`` for many segment columns, preparing the mentions once.

    One pass over the respondents per column for all its values: the sums are additive, so
    rest = everyone - value.
    """
    prepared = _prepare(responses, mentions)
    sums = ["n", "weight", "value"]
    everyone = _mix(prepared, *_group_codes(None, len(responses))).set_index("theme")[sums]
    total = len(responses)
    found: dict[str, dict[str, pd.DataFrame]] = {}
    for name, segment in segments.items():
        group, names = _group_codes(segment, total)
        size_of = dict(zip(names, np.bincount(group[group >= 0], minlength=len(names)),
                           strict=True))
        found[name] = {}
        for value, inside in _mix(prepared, group, names).groupby("group", sort=True):
            size = int(size_of[value])
            if size == total:
                raise Errors.THM418.error(segment=name, value=value)
            rest = everyone.sub(inside.set_index("theme")[sums], fill_value=0)
            rest = rest[rest["n"] > 0]
            found[name][str(value)] = decompose(
                _with_rates(rest.reset_index(), total - size), inside.reset_index(drop=True))
    return found


def gap_drivers(responses: pd.DataFrame, mentions: pd.DataFrame, inside: pd.Series
                ) -> pd.DataFrame:
    """``segment_drivers`` for one boolean split: NPS(inside) - NPS(rest), per theme."""
    side = pd.Series(np.where(inside.to_numpy(dtype=bool), "inside", ""), index=responses.index)
    return segment_drivers(responses, mentions, side)["inside"]


@dataclass(frozen=True)
class RegressionRow:
    theme: str
    share: float  # share of respondents mentioning the theme (not fractional)
    effect: float  # points: how much mentioning the theme moves a respondent, others held fixed
    effect_ci_low: float
    effect_ci_high: float
    p_value: float
    contribution: float  # effect x share; the contributions add up to NPS - intercept


@dataclass(frozen=True)
class RegressionImpact:
    intercept: float  # NPS points the model gives a respondent who names no theme
    rows: list[RegressionRow]  # most negative contribution first
    merged: list[str]  # themes always named together, estimated as one ("a+b")
    left_out: list[str]  # themes named by nobody/everybody, or collinear with others


def regression_impact(responses: pd.DataFrame, mentions: pd.DataFrame) -> RegressionImpact:
    """OLS of value (+1/0/-1) on theme indicators with heteroscedasticity-robust (HC1) errors.

    Themes that are always named together cannot be told apart: they are merged into one
    term ("a+b"). Themes named by nobody or everybody, or that are a combination of others,
    cannot be estimated and are listed in ``left_out``.
    """
    values = respondent_values(responses["category"])
    position = mention_rows(mentions, responses)
    known = position >= 0
    themes, column = np.unique(mentions["theme"].to_numpy()[known].astype(str),
                               return_inverse=True)
    design = np.zeros((len(responses), len(themes)), dtype=float)
    design[position[known], column] = 1.0
    share = design.mean(axis=0)
    constant = (share == 0) | (share == 1)
    left_out = [str(t) for t in themes[constant]]
    themes, design = themes[~constant], design[:, ~constant]
    # Identical indicator columns = themes always named together: one term.
    signature = pd.Series([col.tobytes() for col in np.packbits(design.astype(bool), axis=0).T])
    names = pd.Series(themes).groupby(signature.to_numpy(), sort=False).agg("+".join)
    first = ~signature.duplicated().to_numpy()
    themes = np.array([names[sig] for sig in signature[first]])
    design = design[:, first]
    merged = [str(t) for t in themes if "+" in t]
    # Drop terms that add no rank (checked on the small Gram matrix, not the n x k design).
    full = np.column_stack([np.ones(len(design)), design])
    gram = full.T @ full
    keep = [0]
    for j in range(1, gram.shape[0]):
        trial = [*keep, j]
        if np.linalg.matrix_rank(gram[np.ix_(trial, trial)]) == len(trial):
            keep.append(j)
        else:
            left_out.append(str(themes[j - 1]))
    full = full[:, keep]
    themes = themes[[j - 1 for j in keep[1:]]]
    if len(responses) <= len(keep):
        raise Errors.THM416.error(respondents=len(responses), themes=len(themes))
    fit = sm.OLS(values, full).fit(cov_type="HC1")
    params, errors, p_values = (np.asarray(x) for x in (fit.params, fit.bse, fit.pvalues))
    share = full[:, 1:].mean(axis=0)
    rows = [RegressionRow(
        theme=str(theme), share=float(share[i]), effect=100 * float(params[i + 1]),
        effect_ci_low=100 * float(params[i + 1] - Z95 * errors[i + 1]),
        effect_ci_high=100 * float(params[i + 1] + Z95 * errors[i + 1]),
        p_value=float(p_values[i + 1]), contribution=100 * float(params[i + 1] * share[i]),
    ) for i, theme in enumerate(themes)]
    rows.sort(key=lambda r: (r.contribution, r.theme))
    return RegressionImpact(100 * float(params[0]), rows, merged, sorted(left_out))
