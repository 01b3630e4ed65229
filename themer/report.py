"""A first, self-contained HTML report of the theme table (no network needed to view it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from themer.analyze import ThemeTable

__all__ = ["render_report"]


def render_report(table: ThemeTable, *, title: str, context: dict[str, Any]) -> str:
    """HTML text of the report: overall NPS, P/P/D bar, theme tables per kind."""
    env = Environment(loader=PackageLoader("themer", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    template = env.get_template("report.html.j2")
    data = table.to_dict()
    by_kind: dict[str, list[dict[str, Any]]] = {"area": [], "type": [], "area_type": []}
    for row in data["themes"]:
        by_kind.setdefault(row["kind"], []).append(row)
    return template.render(title=title, overall=data["overall"], by_kind=by_kind,
                           unassigned=data["unassigned"], context=context)


def write_report(path: str | Path, html: str) -> None:
    """Write atomically: a temp file next to the target, then rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
