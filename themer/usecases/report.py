"""The report use case: the theme table and every section around it, as one HTML page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from themer import __version__
from themer.usecases.context import Context
from themer.usecases.discovery import read_json
from themer.usecases.inputs import Dataset, Inputs, load_dataset

__all__ = ["ReportRequest", "report"]


@dataclass(frozen=True)
class ReportRequest:
    inputs: Inputs
    roadmap: Path | None = None  # file; the store's roadmap when reading the store
    discovery: Path | None = None  # a `themer discover --json` file
    latest_discovery: bool = False  # the store's latest discovery run (store input)
    min_n: int | None = None
    raw: bool = False  # hard-tag counts instead of the corrected frequency and NPS


@dataclass
class Report:
    html: str
    payload: dict[str, Any]
    table: Any  # ThemeTable, for the door's summary
    data: Dataset


def _filters(data: Dataset, inputs: Inputs) -> dict[str, str]:
    responses = data.responses
    dates = pd.to_datetime(responses["date"], errors="coerce") if "date" in responses else None
    span = ("-" if dates is None or dates.isna().all() else
            f"{dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}")
    wanted = inputs.wanted()
    return {"survey type": data.group, "dates": span, "respondents": f"{len(responses)}",
            **({"where": ", ".join(f"{k} = {v}" for k, v in wanted.items())}
               if wanted else {}),
            **({"since": inputs.since} if inputs.since else {}),
            **({"until": inputs.until} if inputs.until else {})}


def _candidates(ctx: Context, request: ReportRequest) -> list[dict[str, Any]]:
    if request.discovery is not None:
        return list(read_json(request.discovery).get("candidates", []))
    if request.latest_discovery and request.inputs.path is None:
        from themer.store.discovery import latest_run

        run = latest_run(ctx.open_store())
        return list(run.result.get("candidates", [])) if run is not None else []
    return []


def report(ctx: Context, request: ReportRequest, data: Dataset | None = None) -> Report:
    """The self-contained HTML report and the JSON of its theme table (``data``: the
    responses and tags already loaded, with statement text, for the same request)."""
    from themer.analytics.themes import theme_table
    from themer.report.sections import report_html
    from themer.usecases.themes import (
        RAW_ASKED,
        TaggingRates,
        load_plan,
        tagging_error_rates,
    )

    inputs = request.inputs
    data = data or load_dataset(ctx, inputs, tags=True, text=True)
    assert data.tags is not None
    assert data.taxonomy is not None
    floor = request.min_n or ctx.settings.min_n
    found = (TaggingRates({}, {"area": RAW_ASKED, "type": RAW_ASKED}, {}) if request.raw
             else tagging_error_rates(ctx, inputs, data))  # corrected, as `themer themes`
    table = theme_table(data.responses, data.tags, min_n=floor, error_rates=found.pooled,
                        rate_notes=found.notes, group_rates=found.by_group)
    tax = data.taxonomy
    filters = _filters(data, inputs)
    context = {"input": inputs.label, "taxonomy": f"{tax.source} v{tax.version}",
               "classifier": data.classifier, "model": data.model_id,
               "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    plan = load_plan(ctx, request.roadmap, data) \
        if request.roadmap is not None or inputs.path is None else None
    if plan is not None and not (plan.effort or plan.planned or plan.launches or plan.fixes):
        plan = None
    html = report_html(table, data.tags, data.responses, context=context, filters=filters,
                       min_n=floor, candidates=_candidates(ctx, request), roadmap=plan)
    payload = {**data.header(), "filters": filters, **table.to_dict(),
               "taxonomy": {"source": tax.source, "version": tax.version,
                            "hash": tax.content_hash}, "themer_version": __version__}
    return Report(html, payload, table, data)
