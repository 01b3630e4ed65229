"""A first, self-contained HTML report of the theme table (no network needed to view it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from themer.analyze import ThemeTable

__all__ = ["render_eval_report", "render_report", "write_report"]


def render_report(table: ThemeTable, *, title: str, context: dict[str, Any]) -> str:
    """HTML text of the report: overall NPS, P/P/D bar, theme tables per kind."""
    template = _environment().get_template("report.html.j2")
    data = table.to_dict()
    by_kind: dict[str, list[dict[str, Any]]] = {"area": [], "type": [], "area_type": []}
    for row in data["themes"]:
        by_kind.setdefault(row["kind"], []).append(row)
    return template.render(title=title, overall=data["overall"], by_kind=by_kind,
                           unassigned=data["unassigned"], context=context)


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
