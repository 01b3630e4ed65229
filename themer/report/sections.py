"""The report's analyst sections, computed from responses, tags and the theme table.

Each section is plain data for the template (and the chart geometry in ``themer.report.render``):
segment x theme heatmaps, the feature-adoption gap heatmap, the usage x NPS quadrants of the
features, and the priorities (impact x effort quadrants with the squeaky-wheel flags). A section
is left out when its inputs are missing (no segment, no adoption flag, no roadmap), never faked.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from themer.analytics.adoption import FEATURE_COLUMN, adoption_table, gap_matrix
from themer.analytics.priorities import Roadmap, priorities, recovery_counts
from themer.analytics.themes import ThemeTable, theme_mentions
from themer.analytics.trends import nps_by_period
from themer.report.render import (
    heatmap,
    padded_range,
    quadrant_scatter,
    quotes_by_theme,
    render_report,
)

__all__ = ["report_html", "report_sections", "segment_theme_shares"]

MAX_SEGMENTS = 4  # heatmaps drawn; the JSON of `themer segments` has them all
MAX_VALUES = 8  # segment values per heatmap, the largest groups
MAX_THEMES = 12  # area themes per heatmap, the most frequent
QUADRANTS = ("quick win", "big bet", "nice to have", "skip", "effort unknown")


def _segment_names(responses: pd.DataFrame) -> list[str]:
    return [c.removeprefix("segment:") for c in responses.columns
            if c.startswith("segment:") and not c.startswith(FEATURE_COLUMN)]


def segment_theme_shares(responses: pd.DataFrame, mentions: pd.DataFrame, segment: str,
                         themes: list[str], *, max_values: int = MAX_VALUES
                         ) -> tuple[list[str], list[int], np.ndarray]:
    """Share of each segment value's respondents (%) who mention each theme.

    Returns (values, respondents per value, themes x values array); the values are the
    ``max_values`` largest non-blank groups, largest first (ties by name)."""
    values = responses[f"segment:{segment}"].astype("string").fillna("").str.strip()
    sizes = values[values != ""].value_counts()
    ordered = sorted(sizes.items(), key=lambda item: (-int(item[1]), str(item[0])))[:max_values]
    chosen = [str(v) for v, _ in ordered]
    column_of = {v: j for j, v in enumerate(chosen)}
    theme_of = {t: i for i, t in enumerate(themes)}
    counts = np.zeros((len(themes), len(chosen)))
    per_row = values.to_numpy(dtype=object)
    for theme, position in zip(mentions["theme"], mentions["position"], strict=True):
        i, j = theme_of.get(theme), column_of.get(per_row[position])
        if i is not None and j is not None:
            counts[i, j] += 1
    n = np.array([int(size) for _, size in ordered])
    return chosen, n.tolist(), 100 * counts / np.maximum(n, 1)


def _segment_heatmaps(responses: pd.DataFrame, mentions: pd.DataFrame,
                      table: ThemeTable, min_n: int) -> list[dict[str, Any]]:
    areas = [r for r in table.themes if r.kind == "area"]
    themes = [r.theme for r in sorted(areas, key=lambda r: (-r.frequency, r.theme))][:MAX_THEMES]
    if not themes:
        return []
    maps = []
    for segment in _segment_names(responses)[:MAX_SEGMENTS]:
        values, sizes, shares = segment_theme_shares(responses, mentions, segment, themes)
        if len(values) < 2:
            continue
        cells: list[list[float | None]] = [
            [float(shares[i, j]) if sizes[j] >= min_n else None for j in range(len(values))]
            for i in range(len(themes))]
        maps.append({"segment": segment, "sizes": dict(zip(values, sizes, strict=True)),
                     "chart": heatmap(themes, values, cells, diverging=False,
                                      value_format="{:.0f}%", column_notes={
                                          v: f"n={n}" for v, n in zip(values, sizes,
                                                                      strict=True)})})
    return maps


def _adoption(responses: pd.DataFrame, min_n: int, overall_nps: float) -> dict[str, Any] | None:
    if not any(c.startswith(FEATURE_COLUMN) for c in responses.columns):
        return None
    gaps = adoption_table(responses, min_n=min_n, nps_cut=overall_nps)
    usage_cut = float(np.median([g.usage_rate for g in gaps]))
    points: list[dict[str, Any]] = [
        {"label": g.feature, "x": 100 * g.usage_rate, "y": g.nps_adopters, "n": g.adopters,
         "small_n": g.small_n} for g in gaps if g.nps_adopters is not None]
    section: dict[str, Any] = {
        "gaps": [asdict(g) for g in gaps], "usage_cut": 100 * usage_cut,
        "scatter": quadrant_scatter(
            points, x_range=(0.0, 100.0),
            y_range=padded_range([p["y"] for p in points] + [overall_nps]),
            x_cut=100 * usage_cut,
            y_cut=overall_nps,
            quadrants=("hidden gem", "strength", "sunset candidate", "required but painful"))}
    segments = _segment_names(responses)
    if segments:
        heat, _ = gap_matrix(responses, segments[0], min_n=min_n)
        cells = [[None if pd.isna(v) else float(v) for v in row] for row in heat.to_numpy()]
        section["heatmap"] = {"segment": segments[0], "chart": heatmap(
            [str(f) for f in heat.index], [str(c) for c in heat.columns], cells,
            diverging=True, value_format="{:+.0f}")}
    return section


def _priorities(table: ThemeTable, tags: pd.DataFrame, responses: pd.DataFrame,
                roadmap: Roadmap, recovery_question: str | None) -> dict[str, Any]:
    recovery = (recovery_counts(tags, responses, recovery_question)
                if recovery_question and "question" in tags.columns else None)
    ranked = priorities(table, roadmap, recovery=recovery)
    grid = {q: [asdict(p) for p in ranked if p.quadrant == q] for q in QUADRANTS}
    return {"ranked": [asdict(p) for p in ranked], "quadrants": grid,
            "flagged": [asdict(p) for p in ranked if p.flags]}


def report_sections(responses: pd.DataFrame, tags: pd.DataFrame, table: ThemeTable, *,
                    min_n: int, roadmap: Roadmap | None = None,
                    recovery_question: str | None = "improve") -> dict[str, Any]:
    """Every analyst section the data allows, as template data."""
    mentions = theme_mentions(tags, "area", responses)
    sections: dict[str, Any] = {
        "segment_heatmaps": _segment_heatmaps(responses, mentions, table, min_n),
        "adoption": _adoption(responses, min_n, table.overall.nps)}
    if roadmap is not None:
        sections["priorities"] = _priorities(table, tags, responses, roadmap, recovery_question)
    return sections


def report_html(table: ThemeTable, tags: pd.DataFrame, responses: pd.DataFrame, *,
                context: dict[str, str], filters: dict[str, str], min_n: int,
                candidates: list[dict[str, Any]] | None = None,
                roadmap: Roadmap | None = None, title: str = "themer theme report") -> str:
    """The whole report (CLI and API): trend, quotes (when the tags carry the statement text),
    analyst sections and discovery candidates around the theme table."""
    dated = "date" in responses and pd.to_datetime(responses["date"], errors="coerce"
                                                   ).notna().any()
    periods = [asdict(p) for p in nps_by_period(responses, min_n=min_n)] if dated else []
    quotes = {}
    if "statement" in tags.columns and "confidence" in tags.columns:
        quotes = quotes_by_theme(tags, responses, "area") | quotes_by_theme(tags, responses,
                                                                             "type")
    return render_report(table, title=title, context=context, quotes=quotes, periods=periods,
                         candidates=(candidates or [])[:20], filters=filters,
                         sections=report_sections(responses, tags, table, min_n=min_n,
                                                  roadmap=roadmap))
