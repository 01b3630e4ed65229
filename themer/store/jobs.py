"""Background jobs in the store and the worker that runs them (re-tag after a taxonomy edit).

A job row is claimed with a compare-and-set UPDATE (and ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), so two workers never run one job. The worker heartbeats after every chunk; a job
whose heartbeat is older than ``stale_after`` is claimable again, and the new worker resumes
after ``cursor`` (the last response id fully done). A chunk's tags replace that chunk's tags of
the version (``Store.save_tags``), so a chunk done twice after a crash leaves no duplicate, and
the cursor only moves after the chunk is saved, so none is lost.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from themer.store.models import Job, ResponseRow, StatementRow, TagRow, TaxonomyVersion
from themer.store.repository import Store
from themer.store.webhooks import deliver_due, enqueue_deliveries
from themer.tagger import Tagger

__all__ = ["DISCOVER", "RETAG", "TAG", "TERMINAL", "cancel_job", "claim_job",
           "create_retag_job", "create_tag_job", "finish_job", "get_job",
           "job_counts", "run_job", "run_worker"]

RETAG = "retag"  # all stored history against a new taxonomy version
TAG = "tag"  # given new responses (a big ingest or an import) against the active version
DISCOVER = "discover"  # cluster stored statements (themer.store.discovery)
TERMINAL = ("done", "failed", "cancelled")
TaggerFor = Callable[[TaxonomyVersion], Tagger]


def _now() -> datetime:
    return datetime.now(UTC)


def create_retag_job(store: Store, version_id: int, previous_id: int | None) -> Job:
    """Queue a re-tag of every stored response against taxonomy version ``version_id``."""
    with store.sessions.begin() as session:
        total = int(session.scalar(select(func.count(ResponseRow.id))) or 0)
        job = Job(id=str(uuid.uuid4()), kind=RETAG, total=total, counts={},
                  params={"taxonomy_version_id": version_id, "previous_version_id": previous_id})
        session.add(job)
    return job


def create_tag_job(store: Store, version_id: int, response_ids: list[int],
                   source: str) -> Job:
    """Queue the tagging of these (new) responses against version ``version_id``."""
    with store.sessions.begin() as session:
        job = Job(id=str(uuid.uuid4()), kind=TAG, total=len(response_ids), counts={},
                  params={"taxonomy_version_id": version_id, "previous_version_id": None,
                          "response_ids": sorted(response_ids), "source": source})
        session.add(job)
    return job


def get_job(store: Store, job_id: str) -> Job | None:
    with store.sessions() as session:
        return session.get(Job, job_id)


def cancel_job(store: Store, job_id: str) -> Job | None:
    """Cancel a queued or running job (a running one stops after its current chunk)."""
    with store.sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job_id, Job.state.not_in(TERMINAL))
                        .values(state="cancelled", finished_at=_now()))
    return get_job(store, job_id)


def job_counts(store: Store) -> dict[str, int]:
    """Jobs per state (for /metrics)."""
    with store.sessions() as session:
        rows = session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
    return {str(state): int(count) for state, count in rows}


def claim_job(store: Store, worker: str, *, stale_after: float = 30.0) -> Job | None:
    """Take the oldest queued job, or a running one whose worker stopped heartbeating."""
    now = _now()
    claimable = or_(Job.state == "queued",
                    and_(Job.state == "running",
                         Job.heartbeat_at < now - timedelta(seconds=stale_after)))
    with store.sessions.begin() as session:
        candidate = session.scalar(select(Job.id).where(claimable).order_by(Job.created_at)
                                   .limit(1).with_for_update(skip_locked=True))
        if candidate is None:
            return None
        claimed = session.execute(
            update(Job).where(Job.id == candidate, claimable)
            .values(state="running", worker=worker, heartbeat_at=now,
                    attempts=Job.attempts + 1, started_at=func.coalesce(Job.started_at, now)))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None  # another worker won the race
    return get_job(store, candidate)


def _labels_before(store: Store, version_id: int | None, response_ids: list[int]
                   ) -> set[tuple[int, str, int, str, str]]:
    if version_id is None:
        return set()
    with store.sessions() as session:
        rows = session.execute(
            select(StatementRow.response_id, StatementRow.question, StatementRow.start,
                   TagRow.kind, TagRow.label)
            .join(TagRow, TagRow.statement_id == StatementRow.id)
            .where(TagRow.taxonomy_version_id == version_id,
                   StatementRow.response_id.in_(response_ids))).all()
    return {(int(r[0]), str(r[1]), int(r[2]), str(r[3]), str(r[4])) for r in rows}


def run_job(store: Store, job: Job, tagger_for: TaggerFor, *, worker: str,
            chunk_size: int = 500, stop: threading.Event | None = None) -> str:
    """Run a claimed job (re-tag and tag from its cursor) to the end; returns its final state."""
    if job.kind == DISCOVER:
        from themer.store.discovery import run_discover_job  # it builds on this module

        return run_discover_job(store, job, tagger_for, worker=worker)
    params = job.params
    with store.sessions() as session:
        version = session.get(TaxonomyVersion, int(params["taxonomy_version_id"]))
    if version is None:
        finish_job(store, job.id, worker, "failed", "taxonomy version is gone")
        return "failed"
    try:
        tagger = tagger_for(version)
        heads = {str(kind): source for kind, source in tagger.sources.items()}
        cursor, done = job.cursor, job.done
        counts: dict[str, Any] = dict(job.counts or {})
        while stop is None or not stop.is_set():
            current = get_job(store, job.id)
            if current is None or current.state != "running" or current.worker != worker:
                return current.state if current is not None else "failed"
            if job.kind == TAG:  # a given set of new responses
                wanted = sorted(int(i) for i in params["response_ids"])
                ids = [i for i in wanted if i > cursor][:chunk_size]
            else:  # all history
                with store.sessions() as session:
                    ids = list(session.scalars(
                        select(ResponseRow.id).where(ResponseRow.id > cursor)
                        .order_by(ResponseRow.id).limit(chunk_size)))
            if not ids:
                if job.kind == RETAG:
                    with store.sessions.begin() as session:
                        session.execute(update(TaxonomyVersion).values(active=False))
                        session.execute(update(TaxonomyVersion).where(
                            TaxonomyVersion.id == version.id).values(active=True))
                finish_job(store, job.id, worker, "done", None)
                return "done"
            before = _labels_before(store, params.get("previous_version_id"), ids)
            statements = tagger.split(store.responses_for_tagging(ids))
            tags = tagger.tag_statements(statements) if len(statements) else statements
            after = {(int(r.response_id), str(r.question), int(r.start), str(r.kind),
                      str(r.label)) for r in tags.itertuples()} if len(tags) else set()
            store.save_tags(tags, version.id, heads)
            if job.kind == TAG:  # new comments: route them to subscribed teams
                enqueue_deliveries(store, version, ids)
            added = Counter(f"{k}:{label}" for *_, k, label in after - before)
            removed = Counter(f"{k}:{label}" for *_, k, label in before - after)
            for name, delta in (("added", added), ("removed", removed)):
                merged = Counter(counts.get(name, {}))
                merged.update(delta)
                counts[name] = dict(sorted(merged.items()))
            counts["tag_rows"] = int(counts.get("tag_rows", 0)) + len(tags)
            cursor, done = ids[-1], done + len(ids)
            with store.sessions.begin() as session:
                moved = session.execute(
                    update(Job).where(Job.id == job.id, Job.worker == worker,
                                      Job.state == "running")
                    .values(cursor=cursor, done=done, counts=counts, heartbeat_at=_now()))
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    return "lost"  # cancelled, or taken over after a stall
        # Stopped (shutdown): hand the job back so the next worker resumes it at once.
        with store.sessions.begin() as session:
            session.execute(update(Job).where(Job.id == job.id, Job.worker == worker,
                                              Job.state == "running").values(state="queued"))
        return "queued"
    except Exception as exc:  # the job records why; the worker goes on with other jobs
        finish_job(store, job.id, worker, "failed", f"{type(exc).__name__}: {exc}")
        return "failed"


def finish_job(store: Store, job_id: str, worker: str, state: str, error: str | None) -> str:
    """Record a job's end (as the worker holding it); returns ``state``."""
    with store.sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job_id, Job.worker == worker)
                        .values(state=state, error=error, finished_at=_now(),
                                heartbeat_at=_now()))
    return state


def run_worker(store: Store, tagger_for: TaggerFor, *, once: bool = False,
               poll_seconds: float = 1.0, chunk_size: int = 500, stale_after: float = 30.0,
               stop: threading.Event | None = None, max_jobs: int | None = None) -> int:
    """Claim and run jobs until ``stop`` is set (or, with ``once``, until none is waiting).

    Returns the number of jobs run. ``max_jobs`` bounds the loop for tests and cron use.
    """
    name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    stop = stop or threading.Event()
    ran = 0
    while not stop.is_set() and (max_jobs is None or ran < max_jobs):
        deliver_due(store)
        job = claim_job(store, name, stale_after=stale_after)
        if job is None:
            if once:
                break
            stop.wait(poll_seconds)
            continue
        run_job(store, job, tagger_for, worker=name, chunk_size=chunk_size, stop=stop)
        ran += 1
    return ran
