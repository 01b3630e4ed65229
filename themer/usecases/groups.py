"""Use cases over groups of respondents: segments, feature adoption, behaviour, trends, PMF."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import pandas as pd

from themer.errors import Errors
from themer.usecases.context import Context
from themer.usecases.inputs import Dataset, Inputs, attach_tags, load_dataset
from themer.usecases.themes import check_kind

__all__ = ["AdoptionRequest", "BehaviourRequest", "PmfRequest", "SegmentsRequest",
           "TrendsRequest", "adoption", "behaviour", "pmf", "segments", "trends"]

Period = Literal["month", "quarter"]


def check_period(value: str, what: str) -> Period:
    if value == "month":
        return "month"
    if value == "quarter":
        return "quarter"
    raise Errors.THM139.error(what=what, value=value)


def _derived(inputs: Inputs, derived: dict[str, str | None]) -> list[str]:
    """Segment specs NAME=COLUMN for columns a use case turns into segments (file input)."""
    return [f"{name}={column}" for name, column in derived.items()
            if column and inputs.path is not None]


def _source_column(data: Dataset, inputs: Inputs, name: str, column: str) -> pd.Series:
    """The raw values behind a derived segment: the loaded column (file) or the stored
    segment named ``column`` (store)."""
    key = f"segment:{name}" if inputs.path is not None else f"segment:{column}"
    if key not in data.responses.columns:
        from themer.analytics.segments import segment_names

        raise Errors.THM136.error(segments=[column], available=segment_names(data.responses))
    return data.responses[key]


@dataclass(frozen=True)
class SegmentsRequest:
    inputs: Inputs
    usage_col: str | None = None
    cohort_col: str | None = None
    cohort_freq: str = "quarter"
    min_n: int | None = None
    hide_small: bool = False
    drivers: bool = False
    kind: str = "area"


def segments(ctx: Context, request: SegmentsRequest) -> dict[str, Any]:
    """NPS by segment, each value against the rest (difference, 95% CI, BH q-value); with
    ``drivers``, the themes behind each significant gap."""
    from themer.analytics.segments import cohort, segment_table, usage_depth

    inputs = request.inputs
    freq = check_period(request.cohort_freq, "cohort frequency")
    derived = {"usage_depth": request.usage_col, "cohort": request.cohort_col}
    data = load_dataset(ctx, inputs, extra_segments=_derived(inputs, derived))
    responses = data.responses
    if request.usage_col:
        responses["segment:usage_depth"] = usage_depth(
            _source_column(data, inputs, "usage_depth", request.usage_col))
    if request.cohort_col:
        responses["segment:cohort"] = cohort(
            _source_column(data, inputs, "cohort", request.cohort_col), freq)
    table = segment_table(responses, min_n=request.min_n or ctx.settings.min_n,
                          suppress_small=request.hide_small)
    payload: dict[str, Any] = {**data.header(), **table.to_dict()}
    if request.drivers:
        payload["drivers"] = _drivers(ctx, request, data, table)
    return payload


def _drivers(ctx: Context, request: SegmentsRequest, data: Dataset, table: Any
             ) -> dict[str, Any]:
    from themer.analytics.attribution import drivers_by_segment
    from themer.analytics.payloads import records
    from themer.analytics.themes import theme_mentions

    kind = check_kind(request.kind)
    if data.tags is None:
        attach_tags(ctx, request.inputs, data)
    responses = data.responses
    mentions = theme_mentions(data.tags, kind, responses)
    below = [r for r in table.rows if r.significantly_below]
    per_segment = drivers_by_segment(responses, mentions, {
        name: responses[f"segment:{name}"] for name in sorted({r.segment for r in below})})
    found = {f"{r.segment}={r.value}": records(per_segment[r.segment][r.value]) for r in below}
    return {"kind": kind, "method": "share/score decomposition, midpoint weights; totals add "
            "up to the gap", "segments": found}


@dataclass(frozen=True)
class AdoptionRequest:
    inputs: Inputs
    by: str | None = None
    usage_cut: float | None = None
    nps_cut: float | None = None
    min_n: int | None = None


def _stored_features(responses: pd.DataFrame, items: tuple[str, ...]) -> pd.DataFrame:
    """Only the adoption flags asked for (the store holds every feature ever imported):
    ``NAME`` is a stored feature, ``NAME=ATTRIBUTE`` a stored segment attribute holding the
    flag (1/0, yes/no)."""
    from themer.analytics.adoption import FEATURE_COLUMN

    chosen = {}
    for item in items:
        name, sep, attribute = item.partition("=")
        source = f"segment:{attribute}" if sep else f"{FEATURE_COLUMN}{name}"
        if not name or source not in responses.columns:
            stored = [c.removeprefix(FEATURE_COLUMN) for c in responses.columns
                      if c.startswith(FEATURE_COLUMN)]
            raise Errors.THM142.error(features=[item], available=stored)
        chosen[name] = responses[source]
    kept = responses.drop(columns=[c for c in responses.columns if c.startswith(FEATURE_COLUMN)])
    for name, values in chosen.items():
        kept[f"{FEATURE_COLUMN}{name}"] = values
    return kept


def adoption(ctx: Context, request: AdoptionRequest) -> dict[str, Any]:
    """Feature satisfaction gaps (adopters vs not), usage x NPS quadrants, heatmap by segment."""
    from themer.analytics.payloads import adoption_payload

    inputs = request.inputs
    if not inputs.feature:
        raise Errors.THM141.error()
    data = load_dataset(ctx, inputs)
    responses = data.responses
    if inputs.path is None:
        responses = _stored_features(responses, inputs.feature)
    floor = request.min_n or ctx.settings.min_n
    if request.by is not None and f"segment:{request.by}" not in responses.columns:
        from themer.analytics.segments import segment_names

        raise Errors.THM136.error(segments=[request.by], available=segment_names(responses))
    payload = adoption_payload(responses, min_n=floor, usage_cut=request.usage_cut,
                               nps_cut=request.nps_cut, by=request.by)
    return {**data.header(), "n": len(responses), **payload}


@dataclass(frozen=True)
class BehaviourRequest:
    inputs: Inputs
    measure: tuple[str, ...] = ()
    min_n: int | None = None


def behaviour(ctx: Context, request: BehaviourRequest) -> dict[str, Any]:
    """Promoters vs detractors on behaviour: means, medians, effect size, Mann-Whitney, BH q."""
    from themer.analytics.adoption import adoption_frame
    from themer.analytics.behaviour import behaviour_table

    inputs = request.inputs
    if not request.measure and not inputs.feature:
        raise Errors.THM144.error()
    specs = []
    for item in request.measure:
        name, sep, column = item.partition("=")
        if not name or (inputs.path is not None and (not sep or not column)):
            raise Errors.THM143.error(what="measure", item=item)
        specs.append(f"measure:{name}={column}")
    data = load_dataset(ctx, inputs, extra_segments=specs if inputs.path is not None else [])
    responses = data.responses
    if inputs.path is None:
        names = [s.removeprefix("measure:").partition("=")[0] for s in specs]
        measures = {n: pd.to_numeric(_source_column(data, inputs, n, n), errors="coerce")
                    for n in names}
        responses = _stored_features(responses, inputs.feature)
    else:
        measures = {c.removeprefix("segment:measure:"): responses[c]
                    for c in responses.columns if c.startswith("segment:measure:")}
    if inputs.feature:
        flags = adoption_frame(responses)
        measures["features_adopted"] = flags.sum(axis=1, skipna=True).astype(float)
    rows = behaviour_table(responses, measures, min_n=request.min_n or ctx.settings.min_n)
    return {**data.header(), "measures": [asdict(r) for r in rows]}


@dataclass(frozen=True)
class TrendsRequest:
    inputs: Inputs
    period: str = "month"
    themes: bool = False
    kind: str = "area"
    window: int = 6
    spike_sd: float = 2.0
    min_n: int | None = None


def trends(ctx: Context, request: TrendsRequest) -> dict[str, Any]:
    """NPS per month or quarter with 95% intervals and the change from the period before;
    with ``themes``, theme trends, spikes and the change decomposition."""
    from themer.analytics.payloads import trends_payload
    from themer.analytics.themes import theme_mentions

    unit = check_period(request.period, "period")
    data = load_dataset(ctx, request.inputs, tags=request.themes)
    mentions = None
    if request.themes:
        mentions = theme_mentions(data.tags, check_kind(request.kind), data.responses)
    payload = trends_payload(data.responses, unit, min_n=request.min_n or ctx.settings.min_n,
                             mentions=mentions, kind=request.kind, window=request.window,
                             spike_sd=request.spike_sd)
    return {**data.header(), **payload}


@dataclass(frozen=True)
class PmfRequest:
    inputs: Inputs
    cohort_col: str | None = None
    cohort_freq: str = "quarter"
    min_n: int | None = None


def pmf(ctx: Context, request: PmfRequest) -> dict[str, Any]:
    """Survey types side by side; promoter share per cohort vs 40%; NPS spread per segment."""
    from themer.analytics.pmf import by_survey_type, cohort_fit, segment_spread
    from themer.analytics.segments import cohort

    inputs = request.inputs
    freq = check_period(request.cohort_freq, "cohort frequency")
    data = load_dataset(ctx, inputs, all_types=True,
                        extra_segments=_derived(inputs, {"cohort": request.cohort_col}))
    assert data.everyone is not None
    types = by_survey_type(data.everyone)
    responses = data.responses
    payload: dict[str, Any] = {"survey_types": [asdict(t) for t in types], **data.header()}
    if request.cohort_col:
        responses["segment:cohort"] = cohort(
            _source_column(data, inputs, "cohort", request.cohort_col), freq)
        fits = cohort_fit(responses, min_n=request.min_n or ctx.settings.min_n)
        payload["cohorts"] = [asdict(f) for f in fits]
    spreads = [segment_spread(responses, c.removeprefix("segment:"))
               for c in responses.columns if c.startswith("segment:") and c != "segment:cohort"]
    payload["segment_spread"] = [asdict(sp) for sp in spreads]
    if not request.cohort_col and not spreads:
        raise Errors.THM148.error()
    return payload

