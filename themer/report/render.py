"""The self-contained HTML report: numbers, charts as inline SVG, quotes. No network, no script.

Charts are computed here as plain geometry (pure functions, tested) and drawn by the jinja2
template as SVG with a title and a description each (screen readers), in the Okabe-Ito
colour-blind-safe palette; the page prints on A4/Letter without cut charts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from themer.analytics.themes import ThemeTable
from themer.schema import UNASSIGNED

__all__ = ["export_charts", "heatmap", "impact_bars", "interval_dots", "padded_range",
           "quadrant_scatter",
           "quotes_by_theme", "render_eval_report", "render_report", "trend_line",
           "write_report"]

CHART_WIDTH = 640
ROW_HEIGHT = 22
LABEL_WIDTH = 180
MAX_THEMES_CHARTED = 25


def impact_bars(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Horizontal bars of each theme's impact (points it costs or adds), most costly first."""
    rows = sorted(rows, key=lambda r: (r["impact"], r["theme"]))[:MAX_THEMES_CHARTED]
    largest = max((abs(r["impact"]) for r in rows), default=0.0) or 1.0
    half = (CHART_WIDTH - LABEL_WIDTH - 100) / 2  # 50 px each side for the value labels
    zero = LABEL_WIDTH + 50 + half
    bars = []
    for i, r in enumerate(rows):
        length = half * abs(r["impact"]) / largest
        bars.append({"theme": r["theme"], "value": r["impact"], "y": 10 + i * ROW_HEIGHT,
                     "x": zero - length if r["impact"] < 0 else zero, "width": max(length, 0.5),
                     "negative": r["impact"] < 0})
    return {"bars": bars, "zero": zero, "height": 20 + len(rows) * ROW_HEIGHT,
            "width": CHART_WIDTH}


def interval_dots(rows: list[dict[str, Any]], overall: float) -> dict[str, Any]:
    """Each theme's NPS with its 95% interval on a -100..100 axis, lowest NPS first."""
    rows = sorted(rows, key=lambda r: (r["nps"], r["theme"]))[:MAX_THEMES_CHARTED]
    span = CHART_WIDTH - LABEL_WIDTH - 30

    def x(value: float) -> float:
        return LABEL_WIDTH + span * (min(max(value, -100.0), 100.0) + 100) / 200

    dots = [{"theme": r["theme"], "nps": r["nps"], "low": r["ci_low"], "high": r["ci_high"],
             "x": x(r["nps"]), "x_low": x(r["ci_low"]), "x_high": x(r["ci_high"]),
             "y": 15 + i * ROW_HEIGHT, "small_n": r["small_n"], "below": r["nps"] < overall}
            for i, r in enumerate(rows)]
    return {"dots": dots, "overall_x": x(overall), "zero_x": x(0), "ticks": [
        {"value": v, "x": x(v)} for v in (-100, -50, 0, 50, 100)],
        "height": 30 + len(rows) * ROW_HEIGHT, "width": CHART_WIDTH}


def trend_line(periods: list[dict[str, Any]]) -> dict[str, Any] | None:
    """NPS per period with its interval band; None with fewer than two periods."""
    if len(periods) < 2:
        return None
    width, height, left, top = CHART_WIDTH, 220, 50, 15
    inner_w, inner_h = width - left - 40, height - top - 40
    low = max(-100.0, min(p["ci_low"] for p in periods) - 5)
    high = min(100.0, max(p["ci_high"] for p in periods) + 5)
    span = max(high - low, 1.0)

    def xy(i: int, value: float) -> tuple[float, float]:
        return (left + inner_w * i / (len(periods) - 1),
                top + inner_h * (high - value) / span)

    line = [xy(i, p["nps"]) for i, p in enumerate(periods)]
    band = ([xy(i, p["ci_high"]) for i, p in enumerate(periods)]
            + [xy(i, p["ci_low"]) for i, p in reversed(list(enumerate(periods)))])
    return {"line": " ".join(f"{a:.1f},{b:.1f}" for a, b in line),
            "band": " ".join(f"{a:.1f},{b:.1f}" for a, b in band),
            "points": [{"x": a, "y": b, "period": p["period"], "nps": p["nps"], "n": p["n"],
                        "small_n": p["small_n"]} for (a, b), p in zip(line, periods, strict=True)],
            "ticks": [{"value": v, "y": xy(0, v)[1]} for v in range(-100, 101, 10)
                      if low <= v <= high and (high - low < 60 or v % 20 == 0)],
            "width": width, "height": height, "left": left, "bottom": top + inner_h}


HEAT_CELL_W = 84
HEAT_CELL_H = 22
HEAT_LABEL_CHARS = 12  # longer column names are cut (full name in the tooltip)
BLUE, ORANGE = "#0072B2", "#D55E00"


def heatmap(row_labels: list[str], column_labels: list[str],
            values: list[list[float | None]], *, diverging: bool,
            value_format: str = "{:.0f}", column_notes: dict[str, str] | None = None
            ) -> dict[str, Any]:
    """Cells of a labelled heatmap. Sequential: blue, darker = larger. Diverging: orange below
    zero, blue above, stronger = further from zero. Empty (None) cells are drawn hatched-grey
    and say "n/a" (too few respondents)."""
    finite = [abs(v) if diverging else v for row in values for v in row if v is not None]
    # sequential: the smallest cell is lightest, the largest darkest (differences show even
    # when every share sits between 8% and 17%); diverging: distance from zero
    low = 0.0 if diverging else min(finite, default=0.0)
    span = (max(finite, default=0.0) - low) or 1.0
    cells = []
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            strength = 0.0 if value is None else min(
                ((abs(value) if diverging else value) - low) / span, 1.0)
            colour = ("#eeeeee" if value is None else
                      (ORANGE if value < 0 else BLUE) if diverging else BLUE)
            cells.append({
                "row": row_labels[i], "column": column_labels[j], "value": value,
                "x": LABEL_WIDTH + j * HEAT_CELL_W, "y": 40 + i * HEAT_CELL_H,
                "fill": colour, "opacity": 1.0 if value is None else 0.1 + 0.9 * strength,
                "text": "n/a" if value is None else value_format.format(value),
                "dark": value is not None and strength > 0.55})
    return {"cells": cells, "rows": [{"label": r, "y": 40 + i * HEAT_CELL_H}
                                     for i, r in enumerate(row_labels)],
            "columns": [{"label": c, "short": c if len(c) <= HEAT_LABEL_CHARS
                         else c[:HEAT_LABEL_CHARS - 1] + "…",
                         "note": (column_notes or {}).get(c, ""),
                         "x": LABEL_WIDTH + j * HEAT_CELL_W + HEAT_CELL_W / 2}
                        for j, c in enumerate(column_labels)],
            "cell_w": HEAT_CELL_W, "cell_h": HEAT_CELL_H,
            "width": LABEL_WIDTH + len(column_labels) * HEAT_CELL_W + 10,
            "height": 50 + len(row_labels) * HEAT_CELL_H}


def _nice_step(span: float) -> float:
    """A round tick step giving 4-10 ticks over ``span``."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500):
        if span / step <= 10:
            return float(step)
    return max(span / 5, 1.0)


def _steps(low: float, high: float, step: float) -> list[float]:
    first = step * -(-low // step)  # the first multiple of step at or above low
    return [first + k * step for k in range(int((high - first) // step) + 1)]


def padded_range(values: list[float], *, pad: float = 10.0, limits: tuple[float, float] = (
        -100.0, 100.0)) -> tuple[float, float]:
    """An axis range around ``values`` rounded out to tens, within ``limits``."""
    if not values:
        return limits
    low = max(limits[0], 10 * ((min(values) - pad) // 10))
    high = min(limits[1], 10 * -(-(max(values) + pad) // 10))
    return (low, high) if high > low else limits


def quadrant_scatter(points: list[dict[str, Any]], *, x_range: tuple[float, float],
                     y_range: tuple[float, float], x_cut: float, y_cut: float,
                     quadrants: tuple[str, str, str, str]) -> dict[str, Any]:
    """Labelled points on two axes split into four quadrants at (x_cut, y_cut).

    ``points``: dicts with ``label``, ``x``, ``y`` (values outside the ranges are clamped).
    ``quadrants``: names of top-left, top-right, bottom-left, bottom-right."""
    width, height, left, top, right, bottom = CHART_WIDTH, 360, 60, 20, 20, 40
    inner_w, inner_h = width - left - right, height - top - bottom
    (x0, x1), (y0, y1) = x_range, y_range

    def sx(v: float) -> float:
        return left + inner_w * (min(max(v, x0), x1) - x0) / ((x1 - x0) or 1.0)

    def sy(v: float) -> float:
        return top + inner_h * (y1 - min(max(v, y0), y1)) / ((y1 - y0) or 1.0)

    x_step = _nice_step(x1 - x0)
    y_step = _nice_step(y1 - y0)
    x_ticks = [{"value": v, "x": sx(v)} for v in _steps(x0, x1, x_step)]
    y_ticks = [{"value": v, "y": sy(v)} for v in _steps(y0, y1, y_step)]
    placed = [{**p, "cx": sx(p["x"]), "cy": sy(p["y"]),
               "right": p["x"] >= x_cut, "upper": p["y"] >= y_cut} for p in points]
    cut_x, cut_y = sx(x_cut), sy(y_cut)
    names = [{"text": quadrants[0], "x": left + 6, "y": top + 14, "anchor": "start"},
             {"text": quadrants[1], "x": width - right - 6, "y": top + 14, "anchor": "end"},
             {"text": quadrants[2], "x": left + 6, "y": top + inner_h - 6, "anchor": "start"},
             {"text": quadrants[3], "x": width - right - 6, "y": top + inner_h - 6,
              "anchor": "end"}]
    return {"points": placed, "cut_x": cut_x, "cut_y": cut_y, "names": names,
            "x_ticks": x_ticks, "y_ticks": y_ticks,
            "left": left, "top": top, "inner_w": inner_w, "inner_h": inner_h,
            "width": width, "height": height}


def quotes_by_theme(tags: pd.DataFrame, responses: pd.DataFrame, kind: str = "area",
                    per_group: tuple[tuple[str, int], ...] = (("detractor", 2), ("promoter", 1))
                    ) -> dict[str, list[dict[str, str]]]:
    """Verbatim statements per theme: the most confident ones of detractors and of promoters.

    Deterministic: ties in confidence go to the lower statement id.
    """
    if tags.empty:
        return {}
    rows = tags[(tags["kind"] == kind) & (tags["label"] != UNASSIGNED)]
    category = responses.set_index(responses["response_id"].astype(str))["category"].astype(str)
    rows = rows.assign(group=rows["response_id"].astype(str).map(category))
    rows = rows.sort_values(["label", "confidence", "statement_id"],
                            ascending=[True, False, True])
    out: dict[str, list[dict[str, str]]] = {}
    for label, block in rows.groupby("label", sort=True):
        chosen: list[dict[str, str]] = []
        for group, count in per_group:
            candidates = block[block["group"] == group]
            seen = candidates["statement"].astype(str).str.strip().str.lower()
            picked = candidates[~seen.duplicated()][:count]
            chosen += [{"group": group, "text": str(t)} for t in picked["statement"]]
        out[str(label)] = chosen
    return out


def render_report(table: ThemeTable, *, title: str, context: dict[str, Any],
                  quotes: dict[str, list[dict[str, str]]] | None = None,
                  periods: list[dict[str, Any]] | None = None,
                  candidates: list[dict[str, Any]] | None = None,
                  sections: dict[str, Any] | None = None,
                  filters: dict[str, str] | None = None) -> str:
    """HTML text of the report: overall NPS, P/P/D bar, impact and interval charts, trend,
    segment and adoption heatmaps, adoption quadrants, priorities, theme tables per kind with
    quotes, discovery candidates. ``sections``: from ``themer.report.sections``."""
    template = _environment().get_template("report.html.j2")
    data = table.to_dict()
    by_kind: dict[str, list[dict[str, Any]]] = {"area": [], "type": [], "area_type": []}
    for row in data["themes"]:
        by_kind.setdefault(row["kind"], []).append(row)
    # The method notes in use per kind ("adjusted count ... tpr x" differs per label: one line)
    methods = {kind: sorted({_method_note(row) for row in rows if row.get("method")})
               for kind, rows in by_kind.items()}
    return template.render(title=title, overall=data["overall"], by_kind=by_kind,
                           methods=methods,
                           unassigned=data["unassigned"], context=context,
                           impact=impact_bars(by_kind["area"]),
                           intervals=interval_dots(by_kind["area"], data["overall"]["nps"]),
                           trend=trend_line(periods or []), quotes=quotes or {},
                           candidates=candidates or [], sections=sections or {},
                           filters=filters or {})


def _method_note(row: dict[str, Any]) -> str:
    """One line per way of computing (the per-label rates stay in the cell's tooltip)."""
    if row.get("estimate") != "adjusted":
        return str(row["method"])
    if "each NPS group" in row["method"]:
        return ("corrected for tagging error: adjusted counts within each NPS group, from the "
                "head's out-of-fold error rates, 95% bootstrap interval")
    return ("frequency corrected for tagging error (adjusted count from the head's "
            "out-of-fold error rates, 95% bootstrap interval); NPS of the tagged respondents")


_CHART = re.compile(r'<svg class="chart" id="([a-z0-9-]+)"(.*?)</svg>', re.DOTALL)


def export_charts(html: str, directory: str | Path) -> list[Path]:
    """Write every chart of a rendered report as a standalone SVG file (for slide decks).

    The charts carry their colours as attributes, so they look the same outside the page."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for match in _CHART.finditer(html):
        name, body = match.group(1), match.group(2)
        svg = ('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"'
               ' style="font-family: Helvetica, Arial, sans-serif; font-size: 11px; '
               f'background: #fff"{body}</svg>\n')
        path = directory / f"{name}.svg"
        write_report(path, svg)
        written.append(path)
    return written


def _environment() -> Environment:
    return Environment(loader=PackageLoader("themer.report", "templates"),
                       autoescape=select_autoescape(["html", "j2"]))


def _svg_points(pairs: list[tuple[float, float]], size: int = 240) -> str:
    """'x,y x,y ...' in a size x size box for unit-square data (y grows upwards)."""
    return " ".join(f"{x * size:.1f},{(1 - y) * size:.1f}" for x, y in pairs)


def render_eval_report(report: dict[str, Any], *, title: str) -> str:
    """HTML of one ``themer eval`` JSON: scores per label, confusion matrix, reliability
    diagram and the coverage-vs-precision curve of the abstain threshold."""
    counts = report["confusion"]["counts"]
    largest = max((max(row) for row in counts), default=0) or 1
    filled = [b for b in report["reliability"] if b["count"]]
    return _environment().get_template("eval.html.j2").render(
        title=title, report=report, largest=largest,
        reliability_points=_svg_points([(b["confidence"], b["accuracy"]) for b in filled]),
        reliability_bins=filled,
        coverage_points=_svg_points([(c["coverage"], c["precision"])
                                     for c in report["coverage"]]),
    )


def write_report(path: str | Path, html: str) -> None:
    """Write atomically: a temp file next to the target, then rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
