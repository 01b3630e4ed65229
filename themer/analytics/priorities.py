"""From the theme table to a ranked list a roadmap review can use.

- **Squeaky-wheel flags** per area theme: *edge case* (mentioned by fewer than ``edge_share`` of
  respondents), *misaligned expectation* / *preference-driven* (that is the theme's dominant
  statement type: route it to marketing/sales, or weigh it as taste, not as a defect), *already
  planned* (listed under ``planned`` in the roadmap).
- **Impact x effort**: impact = points at stake (NPS points gained if the theme's detractors
  became passives; it grows with frequency and with detractor share), high when at or above
  ``impact_cut`` (default: the median over the themes); effort = the roadmap's t-shirt size
  (S/M low, L/XL high) -> quick win, big bet, nice to have, skip; "effort unknown" otherwise.
- **Urgency** by who says it: the largest NPS group among the theme's mentioners (detractors ->
  high, passives -> medium, promoters -> low); **recovery path** = passives who name the theme
  in their answer to the "what would it take" question.

The roadmap is a small YAML file (or a ``roadmap:`` section of the taxonomy, or the store's
roadmap document: ``Store.save_roadmap``) kept apart from the taxonomy's labels: editing effort
sizes must not change the taxonomy hash and re-tag history.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from themer.analytics.themes import AREA_TYPE_SEP, ThemeTable, positions
from themer.errors import Errors
from themer.schema import UNASSIGNED
from themer.taxonomy import TaxonomyInfo

__all__ = ["EFFORT_SIZES", "Priority", "Roadmap", "load_roadmap", "priorities",
           "recovery_counts", "roadmap_from_dict"]

Effort = Literal["S", "M", "L", "XL"]
EFFORT_SIZES: tuple[Effort, ...] = ("S", "M", "L", "XL")
LOW_EFFORT = {"S", "M"}
QUADRANT_ORDER = {"quick win": 0, "big bet": 1, "nice to have": 2, "effort unknown": 3,
                  "skip": 4}
URGENCY_ORDER = {"high": 0, "medium": 1, "low": 2}


class Launch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    date: date
    where: dict[str, str] = Field(default_factory=dict, max_length=20)  # input column -> value
    window_days: int = Field(default=30, ge=1, le=3660)


class Fix(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    date: date
    theme: str = Field(min_length=1, max_length=200)
    window_days: int | None = Field(default=None, ge=1, le=3660)  # None: all data each side


class Roadmap(BaseModel):
    """planned themes, effort sizes, and the launches and fixes to validate."""

    model_config = ConfigDict(extra="forbid")
    planned: list[str] = Field(default_factory=list, max_length=1000)
    effort: dict[str, Effort] = Field(default_factory=dict, max_length=1000)
    launches: list[Launch] = Field(default_factory=list, max_length=200)
    fixes: list[Fix] = Field(default_factory=list, max_length=200)


def load_roadmap(path: Path | None, taxonomy: TaxonomyInfo) -> Roadmap:
    """The roadmap file, else the taxonomy's ``roadmap:`` section, else an empty roadmap.

    Theme ids must be areas of the taxonomy (a typo would silently drop a planned flag).
    """
    source = str(path) if path is not None else f"{taxonomy.source} (roadmap section)"
    if path is not None:
        try:
            raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise Errors.THM152.error(path=path) from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise Errors.THM153.error(path=path, reason=exc) from None
    else:
        raw = (taxonomy.taxonomy.model_extra or {}).get("roadmap")
    return roadmap_from_dict(raw, taxonomy, source)


def roadmap_from_dict(raw: Any, taxonomy: TaxonomyInfo, source: str) -> Roadmap:
    """Validate a roadmap document (parsed YAML or JSON; None = empty) against ``taxonomy``;
    errors name ``source`` and the key, or the themes the taxonomy lacks."""
    try:
        roadmap = Roadmap.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Errors.THM154.error(source=source, key=where, problem=first["msg"]) from None
    areas = {label.id for label in taxonomy.taxonomy.areas}
    named = [*roadmap.planned, *roadmap.effort, *(fix.theme for fix in roadmap.fixes)]
    unknown = sorted({theme for theme in named if theme not in areas})
    if unknown:
        raise Errors.THM155.error(source=source, unknown=unknown, areas=sorted(areas))
    return roadmap


@dataclass(frozen=True)
class Priority:
    rank: int
    theme: str
    route: str  # roadmap | marketing/sales | already planned | watch
    quadrant: str
    impact: float  # points at stake
    effort: str | None
    urgency: str
    frequency: float
    nps: float
    n: int
    detractor_share: float
    recovery_passives: int
    dominant_type: str | None
    flags: list[str] = field(default_factory=list)
    reason: str = ""


def _dominant_types(table: ThemeTable) -> dict[str, str]:
    """Area -> its most frequent statement type (ties: alphabetical), from the area x type rows."""
    pairs = [(row.theme.split(AREA_TYPE_SEP, 1), row.n) for row in table.themes
             if row.kind == "area_type"]
    counts = pd.DataFrame([(area, kind, n) for (area, kind), n in pairs],
                          columns=["area", "type", "n"])
    if counts.empty:
        return {}
    counts = counts[counts["type"] != "other"].sort_values(["area", "n", "type"],
                                                           ascending=[True, False, True])
    first = counts.drop_duplicates("area")
    return dict(zip(first["area"].astype(str), first["type"].astype(str), strict=True))


def priorities(table: ThemeTable, roadmap: Roadmap, *,
               recovery: dict[str, int] | None = None, edge_share: float = 0.05,
               impact_cut: float | None = None) -> list[Priority]:
    """Rank the area themes of one survey group's theme table; each with its reason.

    ``recovery``: area -> number of passives naming it in the "what would it take" answer.
    Order: roadmap items first (misaligned expectations, edge cases and planned themes after),
    then quadrant, urgency, and points at stake.
    """
    areas = [row for row in table.themes if row.kind == "area"]
    if not areas:
        return []
    stakes = np.array([row.points_at_stake for row in areas])
    cut = float(np.median(stakes)) if impact_cut is None else impact_cut
    dominant = _dominant_types(table)
    recovery = recovery or {}
    planned = set(roadmap.planned)
    items = []
    for row in areas:
        groups = {"detractors": row.detractors, "passives": row.passives,
                  "promoters": row.promoters}
        loudest = max(groups, key=lambda g: (groups[g], g == "detractors"))
        urgency = {"detractors": "high", "passives": "medium", "promoters": "low"}[loudest]
        effort = roadmap.effort.get(row.theme)
        high_impact = row.points_at_stake >= cut
        if effort is None:
            quadrant = "effort unknown"
        elif effort in LOW_EFFORT:
            quadrant = "quick win" if high_impact else "nice to have"
        else:
            quadrant = "big bet" if high_impact else "skip"
        kind = dominant.get(row.theme)
        flags = []
        if row.frequency < edge_share:
            flags.append("edge case")
        if kind == "misaligned_expectation":
            flags.append("misaligned expectation")
        if kind == "preference":
            flags.append("preference-driven")
        if row.theme in planned:
            flags.append("already planned")
        route = ("marketing/sales" if "misaligned expectation" in flags else
                 "already planned" if "already planned" in flags else
                 "watch" if "edge case" in flags else "roadmap")
        detractor_share = row.detractors / row.n if row.n else 0.0
        reason = (f"{quadrant}: {row.points_at_stake:.1f} NPS points at stake "
                  f"({100 * row.frequency:.0f}% of respondents, their NPS {row.nps:+.0f}), "
                  f"effort {effort or 'unknown'}; urgency {urgency} "
                  f"({100 * detractor_share:.0f}% detractors)")
        passives = recovery.get(row.theme, 0)
        if passives:
            reason += f"; recovery path: {passives} passive(s) name it as what would change " \
                      "their score"
        if kind:
            reason += f"; mostly {kind.replace('_', ' ')}"
        if flags:
            reason += f"; flags: {', '.join(flags)}"
        if row.small_n:
            reason += f" (small n={row.n})"
        items.append(Priority(
            rank=0, theme=row.theme, route=route, quadrant=quadrant,
            impact=row.points_at_stake, effort=effort, urgency=urgency,
            frequency=row.frequency, nps=row.nps, n=row.n, detractor_share=detractor_share,
            recovery_passives=passives, dominant_type=kind, flags=flags, reason=reason))
    route_order = {"roadmap": 0, "already planned": 1, "watch": 2, "marketing/sales": 3}
    items.sort(key=lambda p: (route_order[p.route], QUADRANT_ORDER[p.quadrant],
                              URGENCY_ORDER[p.urgency], -p.impact, p.theme))
    return [replace(p, rank=i + 1) for i, p in enumerate(items)]


def recovery_counts(tags: pd.DataFrame, responses: pd.DataFrame, question: str) -> dict[str, int]:
    """Area -> passives whose answer to ``question`` names it (distinct respondents)."""
    chosen = tags[(tags["question"] == question) & (tags["kind"] == "area")
                  & (tags["label"] != UNASSIGNED)]
    row = positions(chosen["response_id"], responses["response_id"])
    category = responses["category"].to_numpy(dtype=object)
    passive = (row >= 0) & (category[np.maximum(row, 0)] == "passive")
    counts = chosen[passive].drop_duplicates(["response_id", "label"])["label"].value_counts()
    return {str(k): int(v) for k, v in counts.items()}
