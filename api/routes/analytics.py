"""Analysis routes: the use cases over the stored responses and their tags (the same JSON as
``themer <analysis> --store --json``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, ReadKey
from api.routes.selection import MinN, Selection
from api.schemas import (
    AdoptionOut,
    BehaviourOut,
    CommentsOut,
    ImpactOut,
    PmfOut,
    PrioritiesOut,
    SegmentsOut,
    ThemesOut,
    TrendsOut,
    ValidateOut,
)
from themer.usecases import groups, themes
from themer.usecases.inputs import store_filters
from themer.usecases.report import ReportRequest, report

router = APIRouter(tags=["analytics"])
Kind = Literal["area", "type", "area_type"]
Features = Annotated[list[str] | None, Query(max_length=50, description=(
    "NAME (a stored feature flag) or NAME=ATTRIBUTE (a stored segment attribute holding the "
    "flag: 1/0, yes/no); repeat."))]


@router.get("/v1/themes", response_model=ThemesOut)
def theme_table(engine: EngineDep, _: ReadKey, inputs: Selection, min_n: MinN = None,
                kind: Kind | None = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0)] = 0,
                raw: Annotated[bool, Query(description=(
                    "Hard-tag counts instead of the estimates corrected for the tagger's "
                    "measured error rates (`themer themes --raw`)."))] = False
                ) -> dict[str, Any]:
    """The theme table (`themer themes --store --json`), filtered and paginated."""
    payload, _data = themes.themes(engine.context(),
                                   themes.ThemesRequest(inputs, min_n=min_n, raw=raw))
    rows = [t for t in payload["themes"] if kind is None or t["kind"] == kind]
    return {**payload, "themes": rows[offset:offset + limit], "total": len(rows),
            "limit": limit, "offset": offset, "taxonomy_version": engine.active().version}


@router.get("/v1/themes/{theme}/comments", response_model=CommentsOut)
def theme_comments(theme: str, engine: EngineDep, _: ReadKey, inputs: Selection,
                   kind: Literal["area", "type"] = "area",
                   category: Literal["promoter", "passive", "detractor"] | None = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50,
                   offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """The evidence: statements tagged with the theme, with their response's score."""
    filters = store_filters(inputs)
    total, page = engine.store.theme_comments(theme, kind, engine.active().id, filters,
                                              category=category, limit=limit, offset=offset)
    return {"theme": theme, "kind": kind, "total": total, "limit": limit, "offset": offset,
            "comments": page}


@router.get("/v1/segments", response_model=SegmentsOut)
def segments(engine: EngineDep, _: ReadKey, inputs: Selection, min_n: MinN = None,
             usage: Annotated[str | None, Query(
                 description="A stored numeric segment -> light/medium/heavy tertiles.")
             ] = None,
             cohort: Annotated[str | None, Query(
                 description="A stored signup-date segment -> cohort segment.")] = None,
             cohort_freq: Literal["month", "quarter"] = "quarter",
             hide_small: bool = False, drivers: bool = False, kind: Kind = "area"
             ) -> dict[str, Any]:
    """NPS by stored segment, each value against the rest (`themer segments --json`)."""
    return groups.segments(engine.context(), groups.SegmentsRequest(
        inputs, usage_col=usage, cohort_col=cohort, cohort_freq=cohort_freq, min_n=min_n,
        hide_small=hide_small, drivers=drivers, kind=kind))


@router.get("/v1/adoption", response_model=AdoptionOut)
def adoption(engine: EngineDep, _: ReadKey, inputs: Selection, feature: Features = None,
             by: str | None = None, min_n: MinN = None,
             usage_cut: Annotated[float | None, Query(ge=0, le=1)] = None,
             nps_cut: Annotated[float | None, Query(ge=-100, le=100)] = None
             ) -> dict[str, Any]:
    """Feature satisfaction gaps, quadrants and the heatmap (`themer adoption --json`)."""
    return groups.adoption(engine.context(), groups.AdoptionRequest(
        replace(inputs, feature=tuple(feature or ())), by=by, usage_cut=usage_cut,
        nps_cut=nps_cut, min_n=min_n))


@router.get("/v1/behaviour", response_model=BehaviourOut)
def behaviour(engine: EngineDep, _: ReadKey, inputs: Selection,
              measure: Annotated[list[str] | None, Query(
                  max_length=50, description="A stored numeric segment; repeat.")] = None,
              feature: Features = None, min_n: MinN = None) -> dict[str, Any]:
    """Promoters vs detractors on behaviour (`themer behaviour --json`)."""
    return groups.behaviour(engine.context(), groups.BehaviourRequest(
        replace(inputs, feature=tuple(feature or ())), measure=tuple(measure or ()),
        min_n=min_n))


@router.get("/v1/trends", response_model=TrendsOut)
def trends(engine: EngineDep, _: ReadKey, inputs: Selection, min_n: MinN = None,
           period: Literal["month", "quarter"] = "month", themes: bool = False,
           kind: Kind = "area", window: Annotated[int, Query(ge=2, le=60)] = 6,
           spike_sd: Annotated[float, Query(gt=0, le=10)] = 2.0) -> dict[str, Any]:
    """NPS per period; with themes=true theme trends, spikes, decomposition
    (`themer trends --json`)."""
    return groups.trends(engine.context(), groups.TrendsRequest(
        inputs, period=period, themes=themes, kind=kind, window=window, spike_sd=spike_sd,
        min_n=min_n))


@router.get("/v1/pmf", response_model=PmfOut)
def pmf(engine: EngineDep, _: ReadKey, inputs: Selection, min_n: MinN = None,
        cohort: Annotated[str | None, Query(
            description="A stored signup-date segment -> cohorts vs the 40% line.")] = None,
        cohort_freq: Literal["month", "quarter"] = "quarter") -> dict[str, Any]:
    """Survey types side by side, cohorts vs 40% promoters, NPS spread (`themer pmf --json`)."""
    return groups.pmf(engine.context(), groups.PmfRequest(
        inputs, cohort_col=cohort, cohort_freq=cohort_freq, min_n=min_n))


@router.get("/v1/impact", response_model=ImpactOut)
def impact(engine: EngineDep, _: ReadKey, inputs: Selection, min_n: MinN = None,
           kind: Kind = "area") -> dict[str, Any]:
    """Theme impact: leave-one-out, Shapley and regression (`themer impact --json`)."""
    return themes.impact(engine.context(), themes.ImpactRequest(inputs, kind=kind,
                                                                min_n=min_n))


@router.get("/v1/priorities", response_model=PrioritiesOut)
def priorities(engine: EngineDep, _: ReadKey, inputs: Selection, min_n: MinN = None,
               recovery_question: str | None = None,
               edge_share: Annotated[float, Query(ge=0, lt=1)] = 0.05,
               impact_cut: Annotated[float | None, Query(ge=0, le=200)] = None
               ) -> dict[str, Any]:
    """The ranked list (`themer priorities --json`); the roadmap is the stored one
    (`PUT /v1/roadmap`), else the active taxonomy's `roadmap:` section."""
    return themes.priorities(engine.context(), themes.PrioritiesRequest(
        inputs, recovery_question=recovery_question, edge_share=edge_share,
        impact_cut=impact_cut, min_n=min_n))


@router.get("/v1/validate", response_model=ValidateOut)
def validate(engine: EngineDep, _: ReadKey, inputs: Selection, min_n: MinN = None,
             launch: Annotated[str | None, Query(description="Launch day YYYY-MM-DD.")] = None,
             fix: Annotated[str | None, Query(description="Fix day YYYY-MM-DD.")] = None,
             theme: str | None = None,
             among: Literal["detractor", "passive", "promoter", "all"] = "detractor",
             window_days: Annotated[int | None, Query(ge=1, le=3650)] = None,
             kind: Kind = "area") -> dict[str, Any]:
    """Launch and fix checks, before vs after (`themer validate --json`); with neither, the
    stored roadmap's launches and fixes."""
    return themes.validate(engine.context(), themes.ValidateRequest(
        inputs, launch=launch, fix=fix, theme=theme, among=among, window_days=window_days,
        kind=kind, min_n=min_n))


@router.get("/v1/report", response_class=HTMLResponse)
def html_report(engine: EngineDep, _: ReadKey, inputs: Selection, min_n: MinN = None,
                discovery: bool = True, raw: bool = False) -> HTMLResponse:
    """The self-contained HTML report of the stored responses (`themer report --store`): the
    roadmap is the stored one, the candidates those of the latest discovery run; ``raw``:
    hard-tag counts instead of the corrected frequency and NPS."""
    built = report(engine.context(), ReportRequest(inputs, latest_discovery=discovery,
                                                   min_n=min_n, raw=raw))
    return HTMLResponse(built.html)
