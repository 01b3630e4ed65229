"""The report command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from themer.cli.common import context, handle_errors, save_json
from themer.cli.options import JsonOpt, MinNOpt, reads_responses
from themer.cli.views import print_theme_table, write_report_files

__all__ = ["register"]


@handle_errors
@reads_responses
def report(inputs: Any, output: Annotated[Path, typer.Option("-o", "--output",
                                                              help="The HTML file.")],
           roadmap: Annotated[Path | None, typer.Option(
               "--roadmap", help="Planned themes and effort sizes: adds the priorities "
               "(--store: default the stored roadmap).")] = None,
           discovery: Annotated[Path | None, typer.Option(
               "--discovery", help="A `themer discover --json` file: adds its candidates.")
           ] = None,
           charts: Annotated[Path | None, typer.Option(
               "--charts", help="Also write each chart as an SVG file in this folder.")
           ] = None,
           limit: Annotated[int, typer.Option("--limit", help="Theme rows printed.")] = 15,
           min_n: MinNOpt = None, json_out: JsonOpt = None,
           raw: Annotated[bool, typer.Option(
               "--raw", help="Hard-tag counts instead of the frequency and NPS corrected for "
               "the tagger's measured error rates.")] = False) -> None:
    """Write the self-contained HTML report (charts, segments, adoption, priorities, quotes).

    NPS, impact, trends, segment x theme and adoption heatmaps, usage x NPS quadrants,
    priorities, verbatims and discovery candidates; segments and feature flags are found in
    the file unless --segment names them."""
    from themer.usecases.report import ReportRequest
    from themer.usecases.report import report as build

    built = build(context(), ReportRequest(inputs, roadmap=roadmap, discovery=discovery,
                                           latest_discovery=inputs.path is None and
                                           discovery is None, min_n=min_n, raw=raw))
    print_theme_table(built.payload, limit)
    write_report_files(built.html, output, charts)
    save_json(json_out, {k: v for k, v in built.payload.items() if k != "themer_version"})


def register(app: typer.Typer) -> None:
    app.command()(report)
