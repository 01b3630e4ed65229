"""What every kind of job shares: the kinds, the states, reading a job and recording its end.

``themer.store.jobs`` (the worker, re-tag and tag jobs) and ``themer.store.discovery`` (the
discover job) both build on this module; neither imports the other for it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from themer.store.models import Job
from themer.store.repository import Store

__all__ = ["DISCOVER", "RETAG", "TAG", "TERMINAL", "finish_job", "get_job", "now"]

RETAG = "retag"  # all stored history against a new taxonomy version
TAG = "tag"  # given new responses (a big ingest or an import) against the active version
DISCOVER = "discover"  # cluster stored statements (themer.store.discovery)
TERMINAL = ("done", "failed", "cancelled")


def now() -> datetime:
    return datetime.now(UTC)


def get_job(store: Store, job_id: str) -> Job | None:
    with store.sessions() as session:
        return session.get(Job, job_id)


def finish_job(store: Store, job_id: str, worker: str, state: str, error: str | None) -> str:
    """Record a job's end (as the worker holding it); returns ``state``."""
    with store.sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job_id, Job.worker == worker)
                        .values(state=state, error=error, finished_at=now(),
                                heartbeat_at=now()))
    return state
