"""The per-theme NPS table: frequency, NPS with 95% interval, impact and points at stake.

Takes one survey group (one survey type, or an explicitly pooled set) of responses and the tag
rows for those responses. Every respondent counts in N, including those who left no comment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from themer.classify import UNASSIGNED
from themer.errors import StatsError
from themer.stats.nps import NpsSummary, impact, nps_ci, points_at_stake, summarize

__all__ = ["ThemeRow", "ThemeTable", "survey_groups", "theme_mentions", "theme_table"]

AREA_TYPE_SEP = "/"


@dataclass(frozen=True)
class ThemeRow:
    """One theme: who mentions it and what their NPS is."""

    theme: str
    kind: str  # area | type | area_type
    n: int
    frequency: float  # share of all respondents in the group, 0-1
    nps: float
    ci_low: float
    ci_high: float
    impact: float  # NPS(all) - NPS(all but mentioners), points
    points_at_stake: float  # 100 * detractors among mentioners / N
    small_n: bool
    promoters: int
    passives: int
    detractors: int


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


def theme_mentions(tags: pd.DataFrame, kind: str | None = None) -> pd.DataFrame:
    """(theme, kind, response_id) for every distinct mention, including area x type pairs.

    ``kind`` keeps one kind (area, type or area_type); None keeps them all.
    """
    assigned = tags[tags["label"] != UNASSIGNED]
    single = assigned[["label", "kind", "response_id"]].rename(columns={"label": "theme"})
    areas = assigned[assigned["kind"] == "area"][["statement_id", "response_id", "label"]]
    types = assigned[assigned["kind"] == "type"][["statement_id", "label"]]
    pairs = areas.merge(types, on="statement_id", suffixes=("_area", "_type"))
    pairs = pd.DataFrame({
        "theme": pairs["label_area"] + AREA_TYPE_SEP + pairs["label_type"],
        "kind": "area_type",
        "response_id": pairs["response_id"],
    })
    mentions = pd.concat([single, pairs], ignore_index=True)
    if kind is not None:
        mentions = mentions[mentions["kind"] == kind]
    return mentions.drop_duplicates().reset_index(drop=True)


def theme_table(responses: pd.DataFrame, tags: pd.DataFrame, *, min_n: int = 30) -> ThemeTable:
    """Theme table for one survey group, sorted by NPS ascending (worst first)."""
    if responses.empty:
        raise StatsError("no responses in this group; check the survey-type filter.",
                         code="THM407")
    if responses["survey_type"].nunique() > 1 and not responses.attrs.get("pooled", False):
        raise StatsError(
            f"responses mix survey types {sorted(responses['survey_type'].unique())}; NPS of "
            "relationship and transactional surveys is never pooled silently. Filter to one "
            "survey type or pool explicitly.", code="THM408")
    overall = summarize(responses["category"])
    total = (overall.promoters, overall.passives, overall.detractors)
    known = set(responses["response_id"])
    tags = tags[tags["response_id"].isin(known)]
    mentions = theme_mentions(tags).merge(
        responses[["response_id", "category"]], on="response_id", how="inner"
    )
    counts = (mentions.groupby(["theme", "kind", "category"]).size()
              .unstack("category", fill_value=0))
    rows = []
    for (theme, kind), c in counts.iterrows():
        p, m, d = (int(c.get(k, 0)) for k in ("promoter", "passive", "detractor"))
        n = p + m + d
        low, high = nps_ci(p, m, d)
        rows.append(ThemeRow(
            theme=str(theme), kind=str(kind), n=n, frequency=n / overall.n,
            nps=100.0 * (p - d) / n, ci_low=low, ci_high=high,
            impact=impact((p, m, d), total), points_at_stake=points_at_stake(d, overall.n),
            small_n=n < min_n, promoters=p, passives=m, detractors=d,
        ))
    kind_order = {"area": 0, "type": 1, "area_type": 2}
    rows.sort(key=lambda r: (r.nps, kind_order.get(r.kind, 3), -r.n, r.theme))
    unassigned = {}
    for kind in ("area", "type"):
        of_kind = tags[tags["kind"] == kind].drop_duplicates("statement_id")
        per_statement = tags[tags["kind"] == kind].groupby("statement_id")["label"].first()
        n_statements = len(of_kind)
        n_un = int((per_statement == UNASSIGNED).sum())
        unassigned[kind] = {"statements": n_un,
                            "share": (n_un / n_statements) if n_statements else 0.0}
    return ThemeTable(overall=overall, themes=rows, unassigned=unassigned)
