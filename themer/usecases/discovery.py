"""Discovery use cases: find candidate themes, and record the analyst's decisions on them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from themer.errors import Errors
from themer.usecases.context import Context
from themer.usecases.inputs import Inputs, attach_tags, load_dataset, unassigned_statements

__all__ = ["DecideRequest", "DiscoverRequest", "PromoteRequest", "decide", "discover",
           "promote", "read_json"]


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Errors.THM132.error(path=path, reason=exc) from None


@dataclass(frozen=True)
class DiscoverRequest:
    inputs: Inputs
    all_statements: bool = False
    category: tuple[str, ...] = ()
    options: Any = None  # DiscoverOptions (default recipe when None)
    previous: Path | None = None  # an earlier run's JSON: its ids carry over
    decisions: Path | None = None  # decision log (file input; the store keeps its own)


def discover(ctx: Context, request: DiscoverRequest) -> dict[str, Any]:
    """Candidate themes the taxonomy lacks: clusters of unassigned statements, with quotes."""
    from themer.discovery.decisions import read_decisions
    from themer.discovery.labels import load_label_nlp
    from themer.discovery.pipeline import DiscoverOptions, run_discovery
    from themer.runtime.encoders import cached_pair

    inputs = request.inputs
    options = request.options or DiscoverOptions()
    if inputs.path is None:
        statements, responses, data = _stored_statements(ctx, request)
        decisions = _stored_decisions(ctx)
        encoder = cached_pair(ctx.settings)[0]
    else:
        data = load_dataset(ctx, inputs, category=request.category)
        attach_tags(ctx, inputs, data, columns=["response_id", "statement_id", "kind", "label",
                                                "statement"])
        assert data.tags is not None
        assert data.tagger is not None
        statements = unassigned_statements(data.tags, request.all_statements)
        responses = data.responses
        log = request.decisions or ctx.settings.decisions_file
        decisions = read_decisions(log)
        encoder = data.tagger.encoder
    assert data.taxonomy is not None
    previous = read_json(request.previous) if request.previous is not None else None
    found = run_discovery(statements, responses, encoder, data.taxonomy, options,
                          previous=previous, decisions=decisions, nlp=load_label_nlp())
    return {**data.header(), "mode": "all" if request.all_statements else "unassigned",
            **found.to_dict()}


def _stored_statements(ctx: Context, request: DiscoverRequest) -> Any:
    from themer.store.discovery import statements_for_discovery

    inputs = request.inputs
    data = load_dataset(ctx, inputs, category=request.category)
    version = ctx.open_store().active_taxonomy()
    assert version is not None
    params = {"survey_type": inputs.survey_type, "date_from": inputs.since,
              "date_to": inputs.until, "segments": list(inputs.wanted().items()),
              "categories": list(request.category), "all": request.all_statements}
    statements, responses = statements_for_discovery(ctx.open_store(), version.id, params)
    return statements, responses, data


def _stored_decisions(ctx: Context) -> list[Any]:
    from themer.store.discovery import stored_decisions

    return stored_decisions(ctx.open_store())


def candidate(discovery: Path, candidate_id: str) -> dict[str, Any]:
    """One candidate of a ``themer discover --json`` file."""
    found = read_json(discovery)
    chosen = next((c for c in found.get("candidates", []) if c.get("id") == candidate_id),
                  None)
    if chosen is None:
        ids = [c.get("id") for c in found.get("candidates", [])][:20]
        raise Errors.THM170.error(path=discovery, candidate=candidate_id, ids=ids)
    return dict(chosen)


def make_decision(**fields: Any) -> Any:
    from themer.discovery.decisions import Decision

    try:
        return Decision(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "decision"
        raise Errors.THM176.error(where=where, problem=first["msg"]) from None


@dataclass(frozen=True)
class PromoteRequest:
    discovery: Path
    candidate: str
    area_id: str
    output: Path
    name: str | None = None
    owner: str | None = None
    by: str | None = None
    decisions: Path | None = None
    taxonomy: Path | None = None


def promote(ctx: Context, request: PromoteRequest) -> dict[str, Any]:
    """Write the next taxonomy version with the candidate as a new area; log the decision."""
    from themer.discovery.decisions import append_decision
    from themer.discovery.decisions import promote as promote_candidate
    from themer.outputs.tag_files import atomic_path

    source = request.taxonomy or ctx.settings.taxonomy
    chosen = candidate(request.discovery, request.candidate)
    edited = promote_candidate(source.read_text(encoding="utf-8"), chosen, request.area_id,
                               name=request.name, owner=request.owner, source=str(source))
    decision = make_decision(action="promote", candidate=request.candidate,
                             area=request.area_id, by=request.by)
    tmp = atomic_path(request.output)
    tmp.write_text(edited, encoding="utf-8")
    tmp.replace(request.output)
    log = request.decisions or ctx.settings.decisions_file
    append_decision(log, decision)
    return {"output": str(request.output), "area": request.area_id,
            "candidate": request.candidate, "label": chosen.get("label"), "log": str(log)}


@dataclass(frozen=True)
class DecideRequest:
    discovery: Path
    action: str
    candidate: str
    into: str | None = None
    label: str | None = None
    by: str | None = None
    decisions: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def decide(ctx: Context, request: DecideRequest) -> dict[str, Any]:
    """Log a merge, rename or discard (later discover runs apply it)."""
    from themer.discovery.decisions import append_decision

    if request.action not in ("merge", "rename", "discard"):
        raise Errors.THM177.error(action=request.action)
    candidate(request.discovery, request.candidate)
    if request.into is not None:
        candidate(request.discovery, request.into)
    decision = make_decision(action=request.action, candidate=request.candidate,
                             into=request.into, label=request.label, by=request.by)
    log = request.decisions or ctx.settings.decisions_file
    append_decision(log, decision)
    return {"decision": decision.model_dump(exclude_none=True), "log": str(log)}
