"""The per-theme NPS table: frequency, NPS with 95% interval, impact and points at stake.

Takes one survey group (one survey type, or an explicitly pooled set) of responses and the tag
rows for those responses. Every respondent counts in N, including those who left no comment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from themer.analytics.nps import NpsSummary, impact, nps_ci, points_at_stake, summarize
from themer.analytics.quantify import (
    ErrorCounts,
    Estimate,
    quantify,
    quantify_grouped,
    raw_estimate,
)
from themer.errors import Errors
from themer.schema import NPS_GROUPS, UNASSIGNED

__all__ = ["ThemeRow", "ThemeTable", "mention_rows", "positions", "survey_groups",
           "theme_mentions", "theme_table", "with_positions"]

AREA_TYPE_SEP = "/"


@dataclass(frozen=True)
class ThemeRow:
    """One theme: who mentions it and what their NPS is."""

    theme: str
    kind: str  # area | type | area_type
    n: int  # respondents tagged (raw count)
    frequency: float  # share of all respondents in the group, 0-1 (the estimate shown)
    nps: float  # the estimate shown: corrected when ``estimate`` is "adjusted"
    ci_low: float
    ci_high: float
    impact: float  # NPS(all) - NPS(all but mentioners), points
    points_at_stake: float  # 100 * detractors among mentioners / N
    small_n: bool
    promoters: int  # among the tagged respondents (raw), as impact and points at stake
    passives: int
    detractors: int
    freq_ci_low: float = 0.0  # 95% interval of ``frequency``
    freq_ci_high: float = 1.0
    frequency_raw: float = 0.0  # share tagged
    nps_raw: float = 0.0  # NPS of the tagged respondents
    ci_low_raw: float = -100.0
    ci_high_raw: float = 100.0
    estimate: str = "raw"  # adjusted (corrected for measured tagging error) | raw
    method: str = ""  # how the shown numbers were made, or why they were not corrected


@dataclass(frozen=True)
class ThemeTable:
    overall: NpsSummary
    themes: list[ThemeRow]
    unassigned: dict[str, dict[str, float]]  # kind -> {statements, share}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(row) for row in self.themes])

    def to_dict(self) -> dict[str, Any]:
        overall = asdict(self.overall)
        return {
            "overall": {k: overall[k] for k in ("n", "nps", "ci_low", "ci_high", "promoters",
                                                 "passives", "detractors", "se")},
            "themes": [asdict(row) for row in self.themes],
            "unassigned": self.unassigned,
        }


def survey_groups(responses: pd.DataFrame) -> dict[str, int]:
    """Survey types present and their response counts (for the never-pool rule)."""
    counts = responses["survey_type"].value_counts(sort=False)
    return {str(k): int(v) for k, v in sorted(counts.items())}


def positions(values: pd.Series, ids: pd.Series) -> np.ndarray:
    """Row position in ``ids`` of each value, -1 where absent.

    Hash lookup through ``pd.Index``: ``Series.isin`` on pandas' Arrow strings walks the
    lookup values in Python (9 s for a million ids here, against 1.2 s this way).
    """
    return np.asarray(pd.Index(ids).get_indexer(values))


def mention_rows(mentions: pd.DataFrame, responses: pd.DataFrame) -> np.ndarray:
    """Row of each mention's respondent in ``responses`` (-1 if absent).

    Uses the ``position`` column ``theme_mentions(..., responses=...)`` adds (computed once per
    analysis), else looks the ``response_id`` up.
    """
    if "position" in mentions.columns:
        return np.asarray(mentions["position"].to_numpy(dtype=np.int64))
    return positions(mentions["response_id"], responses["response_id"])


def theme_mentions(tags: pd.DataFrame, kind: str | None = None,
                   responses: pd.DataFrame | None = None) -> pd.DataFrame:
    """(theme, kind, response_id) for every distinct mention, including area x type pairs.

    ``kind`` keeps one kind (area, type or area_type); None keeps them all. With
    ``responses``, mentions of other respondents are dropped and a ``position`` column gives
    each mention's row in ``responses``, so later steps never look ids up again.
    """
    if kind not in (None, "area", "type", "area_type"):
        raise Errors.THM419.error(kind=kind)
    if responses is not None and "position" not in tags.columns:
        tags = with_positions(tags, responses)
    # Work on integer codes: filtering and hashing a few million Arrow strings column by
    # column cost seconds (eval/bench/analytics_1m.py), labels and kinds have few values.
    label, labels = pd.factorize(tags["label"])
    kind_code, kinds = pd.factorize(tags["kind"])
    kind_of = {str(k): i for i, k in enumerate(kinds)}
    label_names = np.asarray(labels, dtype=object)
    assigned = label_names[label] != UNASSIGNED if len(labels) else np.zeros(0, dtype=bool)
    who = (tags["position"].to_numpy(dtype=np.int64) if "position" in tags.columns
           else pd.factorize(tags["response_id"])[0].astype(np.int64))
    rows = []  # (row indices into tags, theme codes, kind name)
    names: list[str] = []
    for single in (("area", "type") if kind is None else (kind,) if kind != "area_type" else ()):
        chosen = np.flatnonzero(assigned & (kind_code == kind_of.get(single, -1)))
        rows.append((chosen, label[chosen] + len(names), single))
        names += [str(x) for x in label_names]
    if kind in (None, "area_type"):
        statement, statements = pd.factorize(tags["statement_id"])
        is_type = np.flatnonzero(assigned & (kind_code == kind_of.get("type", -1)))
        type_of = np.full(len(statements), -1, dtype=np.int64)
        type_of[statement[is_type][::-1]] = label[is_type][::-1]  # first type row wins
        areas = np.flatnonzero(assigned & (kind_code == kind_of.get("area", -1)))
        paired = areas[type_of[statement[areas]] >= 0]
        pair = label[paired] * len(label_names) + type_of[statement[paired]]
        rows.append((paired, pair + len(names), "area_type"))
        names += [f"{a}{AREA_TYPE_SEP}{t}" for a in label_names for t in label_names]
    index = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int64)
    theme = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0, dtype=np.int64)
    kind_name = np.concatenate([np.full(len(r[0]), r[2], dtype=object) for r in rows]) \
        if rows else np.zeros(0, dtype=object)
    # One mention per (respondent, theme): theme codes already separate the kinds.
    _, first = np.unique(who[index] * max(len(names), 1) + theme, return_index=True)
    first = np.sort(first)
    index, theme, kind_name = index[first], theme[first], kind_name[first]
    mentions = pd.DataFrame({
        "theme": pd.Series(np.asarray(names, dtype=object)[theme], dtype=object),
        "kind": pd.Series(kind_name, dtype=object),
        "response_id": pd.Series(tags["response_id"].to_numpy(dtype=object)[index],
                                 dtype=object)})
    if "position" in tags.columns:
        mentions["position"] = who[index]
    return mentions


RAW_PAIRS = "raw: no sound estimator for area x type pairs (hard tags counted)"


RatesByGroup = Mapping[str, Mapping[str, Sequence[ErrorCounts]]]  # kind -> label -> 3 groups


def _shown(theme: str, kind: str, tagged: tuple[int, int, int], total: tuple[int, int, int],
           error_rates: Mapping[str, Mapping[str, ErrorCounts]] | None,
           rate_notes: Mapping[str, str] | None, commenters: tuple[int, int, int],
           group_rates: RatesByGroup | None = None) -> tuple[Estimate, str]:
    """The estimate a theme row shows, and how it was made: corrected with its label's error
    rates where measured, else raw (the method says why).

    With error rates measured per NPS group, frequency and NPS come from the adjusted count
    within each group; with pooled rates only, the frequency is the adjusted count and the
    NPS that of the tagged respondents -- the pooled mixture correction assumes tagging
    errors independent of the score, and on the public sets it made theme NPS worse
    (eval/README.md, quantification). The correction runs among ``commenters`` (respondents with at
    least one statement): one who wrote nothing can be neither tagged nor mistagged. The
    share is then rescaled to everyone.
    """
    cells = np.array([[t - g for t, g in zip(total, tagged, strict=True)], list(tagged)])
    if kind == "area_type":
        return raw_estimate(cells), RAW_PAIRS
    counts = (error_rates or {}).get(kind, {}).get(theme)
    grouped = (group_rates or {}).get(kind, {}).get(theme)
    if counts is None and not grouped:
        note = (rate_notes or {}).get(kind) or "no error rates given"
        return raw_estimate(cells), f"raw: {note}"
    among = np.array([[c - g for c, g in zip(commenters, tagged, strict=True)], list(tagged)])
    if grouped:
        found = quantify_grouped(among, grouped)
        measured = sum(c.tp + c.fp + c.fn + c.tn for c in grouped)
        method = (f"adjusted count within each NPS group (error rates measured per group on "
                  f"{measured} labelled rows); 95% bootstrap interval")
    else:
        assert counts is not None
        found = quantify(among, counts)
        tagged_nps = raw_estimate(among)
        found = replace(found, nps=tagged_nps.nps, nps_low=tagged_nps.nps_low,
                        nps_high=tagged_nps.nps_high)
        method = (f"frequency: adjusted count (tpr {counts.tpr:.2f}, fpr {counts.fpr:.2f}, "
                  f"measured on {counts.tp + counts.fp + counts.fn + counts.tn} labelled "
                  f"rows), 95% bootstrap interval; NPS of the tagged respondents (no error "
                  f"rates per NPS group measured)")
    if found.estimate != "adjusted" or found.nps is None:
        return raw_estimate(cells), f"raw: {found.note}"
    scale = sum(commenters) / sum(total)
    return replace(found, frequency=found.frequency * scale, freq_low=found.freq_low * scale,
                   freq_high=found.freq_high * scale), method


def with_positions(tags: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    """The tag rows of these responses, with each one's row in ``responses`` (``position``)."""
    position = positions(tags["response_id"], responses["response_id"])
    return tags.assign(position=position)[position >= 0]


def theme_table(responses: pd.DataFrame, tags: pd.DataFrame, *, min_n: int = 30,
                mentions: pd.DataFrame | None = None,
                error_rates: Mapping[str, Mapping[str, ErrorCounts]] | None = None,
                rate_notes: Mapping[str, str] | None = None,
                group_rates: RatesByGroup | None = None) -> ThemeTable:
    """Theme table for one survey group, sorted by NPS ascending (worst first).

    ``mentions``: ``theme_mentions(tags, None, responses)`` when the caller already has it.
    ``error_rates``: per kind (area, type) and label, the tagger's measured confusion counts
    (``group_rates``: the same per NPS group, when measured); a theme with them shows the
    quantification-corrected frequency and NPS (:mod:`themer.analytics.quantify`, ``_shown``),
    the others the raw counts, ``rate_notes[kind]`` saying why (e.g. zero-shot has no
    measured error rates).
    """
    if responses.empty:
        raise Errors.THM407.error()
    if responses["survey_type"].nunique() > 1 and not responses.attrs.get("pooled", False):
        raise Errors.THM408.error(types=sorted(responses["survey_type"].unique()))
    overall = summarize(responses["category"])
    total = (overall.promoters, overall.passives, overall.detractors)
    tags = with_positions(tags, responses)
    if mentions is None:
        mentions = theme_mentions(tags, responses=responses)
    group = np.asarray(pd.Categorical(responses["category"], categories=NPS_GROUPS).codes)
    said = np.bincount(tags["position"].to_numpy(dtype=np.int64), minlength=len(responses)) > 0
    wrote = np.bincount(group[said], minlength=3)
    commenters = (int(wrote[0]), int(wrote[1]), int(wrote[2]))
    keys = mentions["theme"] + "\t" + mentions["kind"]
    code, names = pd.factorize(keys)
    cells = np.bincount(code * 3 + group[mentions["position"].to_numpy(dtype=np.int64)],
                        minlength=3 * len(names)).reshape(len(names), 3)
    index = pd.MultiIndex.from_tuples([tuple(name.split("\t")) for name in names],
                                      names=["theme", "kind"])
    counts = pd.DataFrame(cells, index=index, columns=list(NPS_GROUPS))
    rows = []
    for (theme, kind), c in counts.iterrows():
        p, m, d = (int(c.get(k, 0)) for k in ("promoter", "passive", "detractor"))
        n = p + m + d
        low, high = nps_ci(p, m, d)
        shown, method = _shown(str(theme), str(kind), (p, m, d), total, error_rates,
                               rate_notes, commenters, group_rates)
        adjusted = shown.estimate == "adjusted"  # raw rows keep the exact old arithmetic
        rows.append(ThemeRow(
            theme=str(theme), kind=str(kind), n=n, frequency=shown.frequency,
            nps=shown.nps if adjusted and shown.nps is not None else 100.0 * (p - d) / n,
            ci_low=shown.nps_low if adjusted and shown.nps_low is not None else low,
            ci_high=shown.nps_high if adjusted and shown.nps_high is not None else high,
            impact=impact((p, m, d), total), points_at_stake=points_at_stake(d, overall.n),
            small_n=n < min_n, promoters=p, passives=m, detractors=d,
            freq_ci_low=shown.freq_low, freq_ci_high=shown.freq_high,
            frequency_raw=n / overall.n, nps_raw=100.0 * (p - d) / n, ci_low_raw=low,
            ci_high_raw=high, estimate=shown.estimate, method=method,
        ))
    kind_order = {"area": 0, "type": 1, "area_type": 2}
    rows.sort(key=lambda r: (r.nps, kind_order.get(r.kind, 3), -r.n, r.theme))
    unassigned = {}
    for kind in ("area", "type"):
        of_kind = tags[tags["kind"] == kind]
        n_statements = int(of_kind["statement_id"].nunique())
        # The tagger gives an unassigned statement exactly one row of that kind.
        n_un = int(of_kind.loc[of_kind["label"] == UNASSIGNED, "statement_id"].nunique())
        unassigned[kind] = {"statements": n_un,
                            "share": (n_un / n_statements) if n_statements else 0.0}
    return ThemeTable(overall=overall, themes=rows, unassigned=unassigned)
