"""Discovery routes: queue a run over the stored statements, read it, record decisions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import ValidationError

from api.deps import AdminKey, EngineDep, ReadKey, WriteKey
from api.errors import ApiError
from api.routes.jobs import job_out
from api.schemas import (
    DecisionOut,
    DecisionRequest,
    DecisionsOut,
    DiscoverRequest,
    DiscoveryOut,
    DiscoveryStarted,
)
from themer.discovery.decisions import Decision
from themer.discovery.decisions import promote as promote_candidate
from themer.errors import Errors
from themer.store.discovery import (
    DISCOVER,
    create_discover_job,
    discovery_run,
    record_decision,
    stored_decisions,
)
from themer.store.jobs import create_retag_job, get_job
from themer.taxonomy import parse_taxonomy
from themer.usecases.inputs import parse_pairs

router = APIRouter(tags=["discovery"])


@router.post("/v1/discover", status_code=202, response_model=DiscoveryStarted)
def start_discovery(body: DiscoverRequest, engine: EngineDep, response: Response,
                    _: WriteKey) -> dict[str, Any]:
    """Queue a discovery run over the stored statements the active taxonomy left
    unassigned (``all``: every statement): candidates with labels, quotes, NPS and the
    nearest areas. Poll ``GET /v1/discover/{id}``. Ids carry over from the previous run."""
    pairs = parse_pairs(body.segment, "where")  # 422 on a bad NAME=VALUE
    if body.previous_run and discovery_run(engine.store, body.previous_run) is None:
        raise ApiError.of(Errors.THM631, run_id=body.previous_run)
    params = body.model_dump(mode="json", exclude={"segment"})
    params["segments"] = [list(pair) for pair in pairs.items()]
    job = create_discover_job(engine.store, engine.active().id, params)
    response.headers["Location"] = f"/v1/discover/{job.id}"
    return {"id": job.id, "job": job_out(job)}


@router.get("/v1/discover/decisions", response_model=DecisionsOut)
def discovery_decisions(engine: EngineDep, _: ReadKey) -> dict[str, Any]:
    """Every decision recorded on candidates, oldest first (later runs apply them)."""
    decisions = stored_decisions(engine.store)
    return {"decisions": [d.model_dump(exclude_none=True) for d in decisions]}


@router.get("/v1/discover/{run_id}", response_model=DiscoveryOut)
def discovery_result(run_id: str, engine: EngineDep, _: ReadKey) -> dict[str, Any]:
    """A run's state; when done, its candidates (``members`` list statement ids and the
    sources' response ids), outlier rate before joining and unclustered rate after."""
    # the job first: the worker stores the run and marks the job done in one transaction,
    # so a job read as done is always followed by a run read that finds it
    job = get_job(engine.store, run_id)
    run = discovery_run(engine.store, run_id)
    if run is not None:
        return {"id": run.id, "state": "done", "created_at": run.created_at.isoformat(),
                "taxonomy_version_id": run.taxonomy_version_id, "params": run.params,
                **run.result}
    if job is None or job.kind != DISCOVER:
        raise ApiError.of(Errors.THM631, run_id=run_id)
    return {"id": job.id, "state": job.state, "job": job_out(job)}


@router.post("/v1/discover/{run_id}/decisions", status_code=201, response_model=DecisionOut)
def decide(run_id: str, body: DecisionRequest, engine: EngineDep, response: Response,
           key: AdminKey) -> dict[str, Any]:
    """Record a decision on a candidate of a finished run. ``promote`` also stores the next
    taxonomy version with the candidate as a new area (its quotes as examples) and starts
    the re-tag that makes it active (``Location``: the job)."""
    run = discovery_run(engine.store, run_id)
    if run is None:
        raise ApiError.of(Errors.THM631, run_id=run_id)
    ids = {str(c["id"]): c for c in run.result.get("candidates", [])}
    for needed in (body.candidate, body.into):
        if needed is not None and needed not in ids:
            raise ApiError.of(Errors.THM632, run_id=run_id, needed=needed, ids=sorted(ids)[:20])
    try:
        decision = Decision(**body.model_dump(exclude={"name", "owner", "by"}),
                            by=body.by or key.name)
    except ValidationError as exc:
        raise ApiError.of(Errors.THM633, problem=exc.errors()[0]["msg"]) from None
    answer: dict[str, Any] = {"decision": decision.model_dump(exclude_none=True)}
    version_id = None
    if decision.action == "promote":
        previous = engine.active()
        text = promote_candidate(previous.yaml, ids[body.candidate], str(body.area),
                                 name=body.name, owner=body.owner,
                                 source=f"taxonomy version {previous.version}")
        version = engine.store.add_taxonomy(parse_taxonomy(text, "promoted taxonomy"), text,
                                            author=decision.by, activate=False)
        job = create_retag_job(engine.store, version.id, previous.id)
        version_id = version.id
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        answer.update(taxonomy_version=version.version, job=job_out(job))
    record_decision(engine.store, run_id, decision, version_id)
    return answer
