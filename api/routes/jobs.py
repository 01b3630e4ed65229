"""Job routes: state and progress of background jobs, and cancelling them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import AdminKey, EngineDep, ReadKey
from api.errors import ApiError
from api.schemas import JobOut
from themer.errors import Errors
from themer.store.jobs import cancel_job, get_job
from themer.store.models import Job

router = APIRouter(tags=["jobs"])


def job_out(job: Job) -> dict[str, Any]:
    """A job row as the API shows it."""
    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {"id": job.id, "kind": job.kind, "state": job.state, "done": job.done,
            "total": job.total, "counts": job.counts, "error": job.error,
            "attempts": job.attempts, "params": job.params, "created_at": when(job.created_at),
            "started_at": when(job.started_at), "finished_at": when(job.finished_at),
            "heartbeat_at": when(job.heartbeat_at)}


@router.get("/v1/jobs/{job_id}", response_model=JobOut)
def job_status(job_id: str, engine: EngineDep, _: ReadKey) -> dict[str, Any]:
    """State, progress (done / total), counts (labels added / removed) and error."""
    job = get_job(engine.store, job_id)
    if job is None:
        raise ApiError.of(Errors.THM627, job_id=job_id)
    return job_out(job)


@router.post("/v1/jobs/{job_id}/cancel", response_model=JobOut)
def job_cancel(job_id: str, engine: EngineDep, _: AdminKey) -> dict[str, Any]:
    """Cancel a queued or running job (a running one stops after its current chunk)."""
    job = cancel_job(engine.store, job_id)
    if job is None:
        raise ApiError.of(Errors.THM627, job_id=job_id)
    return job_out(job)
