"""Taxonomy and roadmap routes. A taxonomy edit is a new version and a re-tag job; a roadmap
edit (effort, planned, launches, fixes) is neither."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.deps import AdminKey, EngineDep, ReadKey
from api.errors import ApiError
from api.routes.jobs import job_out
from api.schemas import RoadmapOut, RoadmapRequest, TaxonomyChangeOut, TaxonomyOut, TaxonomyRequest
from themer.errors import Errors
from themer.store.jobs import create_retag_job
from themer.taxonomy import parse_taxonomy
from themer.usecases.store_ops import save_roadmap, stored_roadmap

router = APIRouter(tags=["taxonomy"])


@router.get("/v1/taxonomy", response_model=TaxonomyOut)
def taxonomy(engine: EngineDep, _: ReadKey) -> dict[str, Any]:
    """Stored taxonomy versions (newest last), the active one, and each one's diff."""
    versions = engine.store.taxonomy_versions()
    return {"versions": [{"id": v.id, "version": v.version, "hash": v.content_hash,
                          "active": v.active, "author": v.author,
                          "created_at": v.created_at.isoformat(), "diff": v.diff}
                         for v in versions]}


@router.put("/v1/taxonomy", status_code=202, response_model=TaxonomyChangeOut)
def put_taxonomy(body: TaxonomyRequest, engine: EngineDep, response: Response,
                 key: AdminKey) -> dict[str, Any]:
    """Store a new taxonomy version and start re-tagging history with it (from cached
    embeddings). The version becomes active when the job is done."""
    info = parse_taxonomy(body.yaml, "request body")  # 422 naming the key and line if bad
    previous = engine.active()
    if info.content_hash == previous.content_hash:
        raise ApiError.of(Errors.THM626)
    version = engine.store.add_taxonomy(info, body.yaml, author=body.author or key.name,
                                        activate=False)
    job = create_retag_job(engine.store, version.id, previous.id)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return {"taxonomy_version": version.version, "hash": version.content_hash,
            "job": job_out(job)}


@router.get("/v1/roadmap", response_model=RoadmapOut, tags=["roadmap"])
def roadmap(engine: EngineDep, _: ReadKey) -> dict[str, Any]:
    """The stored roadmap: effort sizes, planned themes, launches and fixes to check."""
    return stored_roadmap(engine.context())


@router.put("/v1/roadmap", response_model=RoadmapOut, tags=["roadmap"])
def put_roadmap(body: RoadmapRequest, engine: EngineDep, key: AdminKey) -> dict[str, Any]:
    """Replace the roadmap (checked against the active taxonomy: unknown themes are a 422).
    No taxonomy version and no re-tag come of it."""
    return save_roadmap(engine.context(), body.roadmap, body.author or key.name or "api")
