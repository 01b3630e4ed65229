"""Theme use cases: the theme table, impact three ways, priorities, launch and fix checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from themer.errors import Errors
from themer.usecases.context import Context
from themer.usecases.inputs import (
    LAUNCH,
    Dataset,
    Inputs,
    load_dataset,
    parse_day,
    resolve_taxonomy,
)

__all__ = ["ImpactRequest", "PrioritiesRequest", "TaggingRates", "ThemesRequest",
           "ValidateRequest", "impact", "priorities", "tagging_error_rates", "themes", "validate"]

KINDS = ("area", "type", "area_type")


def check_kind(value: str) -> str:
    if value not in KINDS:
        raise Errors.THM159.error(kind=value)
    return value


def _taxonomy_block(data: Dataset) -> dict[str, Any]:
    tax = data.taxonomy
    assert tax is not None
    return {"source": tax.source, "version": tax.version, "hash": tax.content_hash}


@dataclass(frozen=True)
class ThemesRequest:
    inputs: Inputs
    min_n: int | None = None
    text: bool = False  # keep statements and confidences (the report quotes them)
    raw: bool = False  # hard-tag counts instead of the quantification-corrected estimates


ZERO_SHOT_NOTE = ("zero-shot tags have no measured error rates: train a head (themer train) "
                  "or label statements to get corrected numbers")
RAW_ASKED = "raw counts asked for"
CORRECTED_NOTE = ("frequency and NPS: adjusted counts within each NPS group, from the head's "
                  "out-of-fold error rates")
FREQUENCY_NOTE = ("frequency: adjusted count from the head's out-of-fold error rates; NPS of "
                  "the tagged respondents (train the head with scores to correct NPS too)")


def _head_folder(ctx: Context, inputs: Inputs, name: str) -> Path:
    """The folder of the head a tagger names ``head:NAME`` (an explicit one, else models/)."""
    for folder in inputs.head:
        if Path(folder).name == name:
            return Path(folder)
    return ctx.settings.models_dir / name


@dataclass
class TaggingRates:
    """The tagger's measured error counts per kind and label (``by_group``: per NPS group
    too, when the head was trained with scores), and why a kind has none."""

    pooled: dict[str, dict[str, Any]]
    notes: dict[str, str]
    by_group: dict[str, dict[str, Any]]


def tagging_error_rates(ctx: Context, inputs: Inputs, data: Dataset) -> TaggingRates:
    """The error counts of the tagger behind the tags, and why a kind has none.

    Trained heads carry their out-of-fold confusion counts in ``head.json`` (``themer
    train``); zero-shot has none, nor do tags read back from a file or the store.
    """
    import json

    from themer.analytics.quantify import ErrorCounts

    tagger = data.tagger
    if tagger is None:
        why = f"the classifier behind {data.classifier} is not known here"
        return TaggingRates({}, {"area": why, "type": why}, {})
    if tagger.fallback is not None:
        why = "cascade tagging mixes two classifiers whose error rates differ"
        return TaggingRates({}, {"area": why, "type": why}, {})
    rates: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    by_group: dict[str, dict[str, Any]] = {}
    for kind, source in tagger.sources.items():
        if not source.startswith("head:"):
            notes[kind] = ZERO_SHOT_NOTE
            continue
        name = source.removeprefix("head:")
        try:
            meta = json.loads((_head_folder(ctx, inputs, name) / "head.json")
                              .read_text(encoding="utf-8"))
            measured = meta.get("error_rates")
            if not measured:
                notes[kind] = f"head {name} has no measured error rates: retrain it"
                continue
            rates[kind] = {label: ErrorCounts.from_dict(c) for label, c in measured.items()}
            grouped = meta.get("error_rates_by_group") or {}
            by_group[kind] = {label: [ErrorCounts.from_dict(c) for c in groups]
                              for label, groups in grouped.items() if len(groups) == 3}
        except (OSError, ValueError, KeyError, TypeError):
            notes[kind] = f"head {name}: its error rates cannot be read"
    return TaggingRates(rates, notes, by_group)


def themes(ctx: Context, request: ThemesRequest) -> tuple[dict[str, Any], Dataset]:
    """The per-theme NPS table (worst first) and the dataset it was computed on.

    Frequency and NPS are corrected for the tagger's measured error rates where a trained
    head measured them (``estimate`` "adjusted"), raw elsewhere or with ``raw``."""
    from themer.analytics.themes import theme_table

    data = load_dataset(ctx, request.inputs, tags=True, text=request.text)
    assert data.tags is not None
    found = (TaggingRates({}, {"area": RAW_ASKED, "type": RAW_ASKED}, {}) if request.raw
             else tagging_error_rates(ctx, request.inputs, data))
    rates, notes = found.pooled, found.notes
    table = theme_table(data.responses, data.tags, min_n=request.min_n or ctx.settings.min_n,
                        error_rates=rates, rate_notes=notes, group_rates=found.by_group)
    classifier = (data.tagger.sources if data.tagger is not None
                  else {"area": data.classifier, "type": data.classifier})
    quantification = {kind: {"estimate": "adjusted" if kind in rates else "raw",
                             "note": notes.get(kind, CORRECTED_NOTE if found.by_group.get(kind)
                                               else FREQUENCY_NOTE)}
                      for kind in ("area", "type")}
    quantification["area_type"] = {"estimate": "raw", "note": "no sound estimator for area x "
                                                              "type pairs"}
    return ({**data.header(), **table.to_dict(), "taxonomy": _taxonomy_block(data),
             "classifier": classifier, "model_id": data.model_id,
             "quantification": quantification}, data)


@dataclass(frozen=True)
class ImpactRequest:
    inputs: Inputs
    kind: str = "area"
    min_n: int | None = None


def impact(ctx: Context, request: ImpactRequest) -> dict[str, Any]:
    """Theme impact three ways: leave-one-out, Shapley (overlap-aware) and regression."""
    from themer.analytics.attribution import regression_impact, shapley_impact, theme_mix
    from themer.analytics.payloads import records
    from themer.analytics.themes import theme_mentions, theme_table

    chosen = check_kind(request.kind)
    data = load_dataset(ctx, request.inputs, tags=True)
    responses, tag_rows = data.responses, data.tags
    assert tag_rows is not None
    every = theme_mentions(tag_rows, None, responses)
    mentions = every[every["kind"] == chosen]
    table = theme_table(responses, tag_rows, min_n=request.min_n or ctx.settings.min_n,
                        mentions=every)
    loo = {r.theme: r for r in table.themes if r.kind == chosen}
    shapley = shapley_impact(theme_mix(responses, mentions))
    regression = regression_impact(responses, mentions)
    intercept = regression.intercept
    return {
        **data.header(), "kind": chosen, "nps": table.overall.nps, "n": table.overall.n,
        "leave_one_out": {k: v.impact for k, v in loo.items()},
        "frequency": {k: v.frequency for k, v in loo.items()},
        "theme_nps": {k: v.nps for k, v in loo.items()},
        "shapley": {"baseline_nps": shapley.attrs["baseline"], "total": shapley.attrs["total"],
                    "themes": records(shapley)},
        "regression": {"intercept_nps": intercept, "total": table.overall.nps - intercept,
                       "covariance": "HC1", "themes": [asdict(r) for r in regression.rows],
                       "merged": regression.merged, "left_out": regression.left_out}}


@dataclass(frozen=True)
class PrioritiesRequest:
    inputs: Inputs
    roadmap: Path | None = None
    recovery_question: str | None = None
    edge_share: float = 0.05
    impact_cut: float | None = None
    min_n: int | None = None


def load_plan(ctx: Context, path: Path | None, data: Dataset) -> Any:
    """The roadmap: a file, else the store's (store input), else the taxonomy's section."""
    from themer.analytics.priorities import load_roadmap, roadmap_from_dict

    assert data.taxonomy is not None
    if path is None and data.from_store:
        stored = ctx.open_store().roadmap()
        if stored is not None:
            return roadmap_from_dict(stored, data.taxonomy, "stored roadmap")
    return load_roadmap(path, data.taxonomy)


def priorities(ctx: Context, request: PrioritiesRequest) -> dict[str, Any]:
    """One ranked list for a roadmap review: impact x effort, urgency, squeaky-wheel flags."""
    from themer.analytics.payloads import priorities_payload
    from themer.analytics.priorities import priorities as rank
    from themer.analytics.priorities import recovery_counts
    from themer.analytics.themes import theme_table

    if not 0 <= request.edge_share < 1:
        raise Errors.THM162.error(value=request.edge_share)
    data = load_dataset(ctx, request.inputs, tags=True)
    responses, tag_rows = data.responses, data.tags
    assert tag_rows is not None
    plan = load_plan(ctx, request.roadmap, data)
    questions = sorted({str(q) for q in tag_rows["question"].unique()}) \
        if request.inputs.path is None else \
        [c.removeprefix("text:") for c in responses.columns if c.startswith("text:")]
    question = request.recovery_question or ("improve" if "improve" in questions else None)
    if question is not None and question not in questions:
        raise Errors.THM163.error(question=question, questions=questions)
    recovery = recovery_counts(tag_rows, responses, question) if question else {}
    table = theme_table(responses, tag_rows, min_n=request.min_n or ctx.settings.min_n)
    ranked = rank(table, plan, recovery=recovery, edge_share=request.edge_share,
                  impact_cut=request.impact_cut)
    return {**data.header(), **priorities_payload(table, ranked, recovery_question=question,
                                 edge_share=request.edge_share)}


@dataclass(frozen=True)
class ValidateRequest:
    inputs: Inputs
    launch: str | None = None
    fix: str | None = None
    theme: str | None = None
    among: str = "detractor"
    roadmap: Path | None = None
    window_days: int | None = None
    kind: str = "area"
    min_n: int | None = None


def validate(ctx: Context, request: ValidateRequest) -> dict[str, Any]:
    """Launch validation (NPS before/after) and fix validation (theme share before/after).

    ``where`` of the input is the explicit launch's scope (the respondents it concerns), as a
    roadmap launch has its own ``where``; the fix checks read every respondent. With a file
    these are columns of the file, with the store stored segments."""
    from themer.analytics.launch_checks import fix_check, launch_check
    from themer.analytics.priorities import Fix, Launch, Roadmap, load_roadmap

    scope = request.inputs.wanted()
    inputs = replace(request.inputs, where=())
    if inputs.path is None:
        data = load_dataset(ctx, inputs)
        plan = load_plan(ctx, request.roadmap, data)
        prefix = "segment:"
    else:
        tax = resolve_taxonomy(ctx, inputs.taxonomy)
        plan = load_roadmap(request.roadmap, tax) if request.roadmap is not None else Roadmap()
        columns = sorted({*scope, *(c for item in plan.launches for c in item.where)})
        data = load_dataset(ctx, inputs, extra_segments=[f"{LAUNCH}{c}={c}" for c in columns])
        data.taxonomy = tax
        prefix = f"segment:{LAUNCH}"
    launches = [Launch(name=f"launch {request.launch}", date=parse_day(request.launch, "launch"),
                       where=scope, window_days=request.window_days or 30)
                ] if request.launch else []
    launches += plan.launches
    if request.fix is not None and request.theme is None:
        raise Errors.THM164.error()
    fixes = [Fix(name=f"fix {request.fix}", date=parse_day(request.fix, "fix"),
                 theme=str(request.theme))] if request.fix else []
    fixes += plan.fixes
    if not launches and not fixes:
        raise Errors.THM165.error()
    responses = data.responses
    floor = request.min_n or ctx.settings.min_n
    payload: dict[str, Any] = {**data.header(), "launches": [], "fixes": [],
                               "caveat": "before/after, not a controlled test"}
    for item in launches:
        mask = pd.Series(True, index=responses.index)
        for column, value in item.where.items():
            if f"{prefix}{column}" not in responses.columns:
                raise Errors.THM183.error(source=request.inputs.label, launch=item.name,
                                          column=column)
            mask &= responses[f"{prefix}{column}"].astype(str) == value
        check = launch_check(responses, item.date, where=mask, min_n=floor,
                             window_days=request.window_days or item.window_days)
        payload["launches"].append({"name": item.name, "where": item.where, **asdict(check)})
    if fixes:
        payload["fixes"] = _fix_checks(ctx, replace(request, inputs=inputs), data, fixes, floor,
                                       fix_check)
    return payload


def _fix_checks(ctx: Context, request: ValidateRequest, data: Dataset, fixes: list[Any],
                floor: int, fix_check: Any) -> list[dict[str, Any]]:
    from themer.analytics.themes import positions, theme_mentions
    from themer.usecases.inputs import attach_tags

    if data.tags is None:
        attach_tags(ctx, request.inputs, data)
    assert data.tags is not None
    responses = data.responses
    mentions = theme_mentions(data.tags, check_kind(request.kind), responses)
    said = positions(data.tags["response_id"], responses["response_id"])
    commenters = pd.Series(np.bincount(said[said >= 0], minlength=len(responses)) > 0,
                           index=responses.index)
    found = []
    for repair in fixes:
        result = fix_check(responses, commenters, mentions, repair.theme, repair.date,
                           window_days=request.window_days or repair.window_days,
                           among=request.among, min_n=floor)
        found.append({"name": repair.name, **asdict(result)})
    return found
