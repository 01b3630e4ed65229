"""What several commands print or write the same way: the theme table and the report files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from themer.cli.common import grid, note, out

__all__ = ["print_theme_table", "write_report_files"]


def print_theme_table(payload: dict[str, Any], limit: int) -> None:
    """The overall line and the area and type rows (worst first), saying what is left out."""
    o = payload["overall"]
    out.print(f"[bold]{payload['survey_type']}[/]: NPS {o['nps']:+.1f} (95% CI "
              f"{o['ci_low']:+.1f} to {o['ci_high']:+.1f}), n={o['n']}: {o['promoters']} "
              f"promoters, {o['passives']} passives, {o['detractors']} detractors")
    table = grid("theme", "kind", "n", "freq %", "NPS", "95% CI", "impact", "at stake", "",
                 left=("theme", "kind"))
    rows = [r for r in payload["themes"] if r["kind"] in ("area", "type")]
    for r in rows[:limit]:
        table.add_row(r["theme"], r["kind"], str(r["n"]), f"{100 * r['frequency']:.1f}",
                      f"{r['nps']:+.1f}", f"{r['ci_low']:+.0f}..{r['ci_high']:+.0f}",
                      f"{r['impact']:+.2f}", f"{r['points_at_stake']:.1f}",
                      "small n" if r["small_n"] else "")
    out.print(table)
    if len(rows) > limit:
        out.print(f"{limit} of {len(rows)} area and type rows shown (--limit); every row is in "
                  "--json and the report.")
    un = payload["unassigned"]
    out.print(f"unassigned statements: areas {100 * un['area']['share']:.0f}%, "
              f"types {100 * un['type']['share']:.0f}%; area x type rows in --json/--report.")


def write_report_files(html: str, report: Path, charts: Path | None) -> None:
    """The HTML report (and with ``charts``, its charts as SVG files for slides)."""
    from themer.report.render import export_charts, write_report

    write_report(report, html)
    note(f"wrote {report}")
    if charts is not None:
        written = export_charts(html, charts)
        note(f"wrote {len(written)} chart(s) as SVG to {charts}")
