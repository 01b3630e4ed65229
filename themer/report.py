"""The self-contained HTML report: numbers, charts as inline SVG, quotes. No network, no script.

Charts are computed here as plain geometry (pure functions, tested) and drawn by the jinja2
template as SVG with a title and a description each (screen readers), in the Okabe-Ito
colour-blind-safe palette; the page prints on A4/Letter without cut charts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from themer.analyze import ThemeTable
from themer.classify import UNASSIGNED

__all__ = ["impact_bars", "interval_dots", "quotes_by_theme", "render_eval_report",
           "render_report", "trend_line", "write_report"]

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
                  candidates: list[dict[str, Any]] | None = None) -> str:
    """HTML text of the report: overall NPS, P/P/D bar, impact and interval charts, trend,
    theme tables per kind with quotes, discovery candidates."""
    template = _environment().get_template("report.html.j2")
    data = table.to_dict()
    by_kind: dict[str, list[dict[str, Any]]] = {"area": [], "type": [], "area_type": []}
    for row in data["themes"]:
        by_kind.setdefault(row["kind"], []).append(row)
    return template.render(title=title, overall=data["overall"], by_kind=by_kind,
                           unassigned=data["unassigned"], context=context,
                           impact=impact_bars(by_kind["area"]),
                           intervals=interval_dots(by_kind["area"], data["overall"]["nps"]),
                           trend=trend_line(periods or []), quotes=quotes or {},
                           candidates=candidates or [])


def _environment() -> Environment:
    return Environment(loader=PackageLoader("themer", "templates"),
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
