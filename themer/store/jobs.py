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
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, or_, select, update

from themer.nlp.tagger import Tagger
from themer.store.job_state import DISCOVER, RETAG, TAG, TERMINAL, finish_job, get_job
from themer.store.job_state import now as _now
from themer.store.models import Job, ResponseRow, TaxonomyVersion
from themer.store.pipeline import head_versions, split_and_save
from themer.store.repository import Store
from themer.store.webhooks import deliver_due, enqueue_deliveries

__all__ = ["DISCOVER", "RETAG", "TAG", "TERMINAL", "ChunkResult", "RangeRunner", "cancel_job",
           "claim_job", "create_retag_job", "create_tag_job", "finish_job", "get_job",
           "job_counts", "retag_range", "run_job", "run_worker"]

QUICK_CHUNK_S, SLOW_CHUNK_S = 1.0, 5.0  # chunk duration that grows / shrinks the next chunk
MAX_CHUNK_GROWTH = 32  # a chunk is at most this many times THEMER_JOB_CHUNK responses
TaggerFor = Callable[[TaxonomyVersion], Tagger]


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


def _label_changes(before: set[tuple[Any, ...]], after: set[tuple[Any, ...]]
                   ) -> tuple[Counter[str], Counter[str]]:
    """Per "kind:label", the tags added and removed (each tuple ends with kind, label)."""
    added = Counter(f"{k}:{label}" for *_, k, label in after - before)
    removed = Counter(f"{k}:{label}" for *_, k, label in before - after)
    return added, removed


@dataclass
class ChunkResult:
    """What tagging one chunk of responses did (counts per "kind:label")."""

    first: int  # store ids of the chunk's first and last response
    last: int
    responses: int
    saved: int  # tag rows written
    added: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)


class RangeRunner(Protocol):
    """Re-tags ranges of store ids elsewhere (Ray actors); yields results in range order."""

    range_size: int  # responses per range

    def __call__(self, version: TaxonomyVersion, previous_id: int | None,
                 ranges: list[tuple[int, int]]) -> Iterator[ChunkResult]: ...


def retag_range(store: Store, tagger: Tagger, version_id: int, first: int, last: int,
                previous_id: int | None) -> ChunkResult:
    """Re-tag the responses with store ids first..last from their stored statements and cached
    vectors (responses never split before are split now), replacing the version's tags there;
    counts what changed against ``previous_id``'s tags."""
    with store.sessions() as session:
        ids = list(session.scalars(select(ResponseRow.id)
                                   .where(ResponseRow.id.between(first, last))))
    statements = store.stored_statements(first, last)
    before = store.range_labels(previous_id, first, last) if previous_id is not None else set()
    saved, after = 0, set()
    if len(statements):
        tags = pd.concat(list(tagger.retag(statements)), ignore_index=True)
        saved = store.replace_range_tags(tags, version_id, head_versions(tagger), first, last)
        after = set(zip(tags["statement_id"].astype("int64").tolist(), tags["kind"].tolist(),
                        tags["label"].tolist(), strict=True))
    added, removed = _label_changes(before, after)
    split_before = set(statements["response_id"].astype("int64").tolist())
    unsplit = [i for i in ids if i not in split_before]  # stored, never tagged (or blank)
    if unsplit:
        fresh = split_and_save(store, tagger, version_id, unsplit)
        saved += len(fresh)
        added.update(f"{k}:{label}" for k, label in zip(fresh["kind"], fresh["label"],
                                                         strict=True))
    return ChunkResult(first, last, len(ids), saved, added, removed)


def _tag_new(store: Store, tagger: Tagger, version: TaxonomyVersion, ids: list[int]
             ) -> ChunkResult:
    """Split and tag new responses, and route them to the teams subscribed to their themes."""
    tags = split_and_save(store, tagger, version.id, ids)
    after = set(zip(tags["statement_id"].tolist(), tags["kind"].tolist(),
                    tags["label"].tolist(), strict=True))
    enqueue_deliveries(store, version, ids)
    return ChunkResult(ids[0], ids[-1], len(ids), len(tags), *_label_changes(set(), after))


def _record(store: Store, job_id: str, worker: str, done: int, counts: dict[str, Any],
            result: ChunkResult) -> tuple[int, bool]:
    """Add a finished chunk to the job row (cursor, done, counts, heartbeat); returns the new
    done count and whether this worker still holds the job."""
    for name, delta in (("added", result.added), ("removed", result.removed)):
        merged = Counter(counts.get(name, {}))
        merged.update(delta)
        counts[name] = dict(sorted(merged.items()))
    counts["tag_rows"] = int(counts.get("tag_rows", 0)) + result.saved
    done += result.responses
    with store.sessions.begin() as session:
        moved = session.execute(
            update(Job).where(Job.id == job_id, Job.worker == worker, Job.state == "running")
            .values(cursor=result.last, done=done, counts=counts, heartbeat_at=_now()))
    return done, moved.rowcount == 1  # type: ignore[attr-defined]


def _complete(store: Store, job: Job, worker: str, version: TaxonomyVersion) -> str:
    """End a job whose chunks are all done (a re-tag makes its version the active one)."""
    if job.kind == RETAG:
        with store.sessions.begin() as session:
            session.execute(update(TaxonomyVersion).values(active=False))
            session.execute(update(TaxonomyVersion).where(
                TaxonomyVersion.id == version.id).values(active=True))
    return finish_job(store, job.id, worker, "done", None)


def _hand_back(store: Store, job_id: str, worker: str) -> str:
    """Queue a job this worker stops (shutdown), so the next worker resumes it at once."""
    with store.sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job_id, Job.worker == worker,
                                          Job.state == "running").values(state="queued"))
    return "queued"


def _still_mine(store: Store, job_id: str, worker: str) -> str | None:
    """None while this worker holds the running job, else the state to report."""
    current = get_job(store, job_id)
    if current is None or current.state != "running" or current.worker != worker:
        return current.state if current is not None else "failed"
    return None


def _next_size(size: int, base: int, seconds: float) -> int:
    """The next chunk's size: doubled after a chunk under QUICK_CHUNK_S (a re-tag from cached
    vectors spends most of a small chunk on per-chunk queries), halved after one over
    SLOW_CHUNK_S (embedding: heartbeats stay frequent), within base..base x MAX_CHUNK_GROWTH."""
    if seconds < QUICK_CHUNK_S:
        return min(size * 2, base * MAX_CHUNK_GROWTH)
    if seconds > SLOW_CHUNK_S:
        return max(size // 2, base)
    return size


def run_job(store: Store, job: Job, tagger_for: TaggerFor, *, worker: str,
            chunk_size: int = 500, stop: threading.Event | None = None,
            ranges: RangeRunner | None = None) -> str:
    """Run a claimed job (re-tag and tag from its cursor) to the end; returns its final state.

    With ``ranges`` a re-tag runs there (Ray), range by range; otherwise here, chunk by chunk.
    """
    if job.kind == DISCOVER:
        # here, not at the top: clustering imports hdbscan and sklearn, which a worker that
        # only re-tags never needs (store.discovery builds on store.job_state, not on this)
        from themer.store.discovery import run_discover_job

        return run_discover_job(store, job, tagger_for, worker=worker)
    params = job.params
    with store.sessions() as session:
        version = session.get(TaxonomyVersion, int(params["taxonomy_version_id"]))
    if version is None:
        finish_job(store, job.id, worker, "failed", "taxonomy version is gone")
        return "failed"
    previous = params.get("previous_version_id")
    try:
        if job.kind == RETAG and ranges is not None:
            return _run_ranges(store, job, version, ranges, worker=worker, stop=stop)
        tagger = tagger_for(version)
        cursor, done = job.cursor, job.done
        counts: dict[str, Any] = dict(job.counts or {})
        size = chunk_size  # grows while chunks are quick (cached vectors), see _next_size
        while stop is None or not stop.is_set():
            began = time.perf_counter()
            lost = _still_mine(store, job.id, worker)
            if lost is not None:
                return lost
            if job.kind == TAG:  # a given set of new responses
                wanted = sorted(int(i) for i in params["response_ids"])
                ids = [i for i in wanted if i > cursor][:size]
            else:  # all history
                with store.sessions() as session:
                    ids = list(session.scalars(
                        select(ResponseRow.id).where(ResponseRow.id > cursor)
                        .order_by(ResponseRow.id).limit(size)))
            if not ids:
                return _complete(store, job, worker, version)
            result = (retag_range(store, tagger, version.id, ids[0], ids[-1], previous)
                      if job.kind == RETAG else _tag_new(store, tagger, version, ids))
            cursor = result.last
            done, mine = _record(store, job.id, worker, done, counts, result)
            if not mine:
                return "lost"  # cancelled, or taken over after a stall
            size = _next_size(size, chunk_size, time.perf_counter() - began)
        return _hand_back(store, job.id, worker)  # stopped (shutdown)
    except Exception as exc:  # the job records why; the worker goes on with other jobs
        finish_job(store, job.id, worker, "failed", f"{type(exc).__name__}: {exc}")
        return "failed"


def _run_ranges(store: Store, job: Job, version: TaxonomyVersion, ranges: RangeRunner, *,
                worker: str, stop: threading.Event | None) -> str:
    """A re-tag whose ranges run elsewhere (``ranges``, e.g. Ray actors that read and write the
    store themselves): the cursor moves range by range, in order, as results arrive, so a
    restart resumes after the last range recorded (later ranges written early are redone,
    which is idempotent)."""
    with store.sessions() as session:  # 8 bytes per response
        ids = np.fromiter(session.scalars(select(ResponseRow.id).where(ResponseRow.id > job.cursor)
                                          .order_by(ResponseRow.id)), dtype=np.int64)
    planned = [(int(ids[i]), int(ids[min(i + ranges.range_size, len(ids)) - 1]))
               for i in range(0, len(ids), ranges.range_size)]
    done, counts = job.done, dict(job.counts or {})
    for result in ranges(version, job.params.get("previous_version_id"), planned):
        done, mine = _record(store, job.id, worker, done, counts, result)
        if not mine:
            return _still_mine(store, job.id, worker) or "lost"
        if stop is not None and stop.is_set():
            return _hand_back(store, job.id, worker)
    return _complete(store, job, worker, version)


def run_worker(store: Store, tagger_for: TaggerFor, *, once: bool = False,
               poll_seconds: float = 1.0, chunk_size: int = 500, stale_after: float = 30.0,
               stop: threading.Event | None = None, max_jobs: int | None = None,
               ranges: RangeRunner | None = None) -> int:
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
        run_job(store, job, tagger_for, worker=name, chunk_size=chunk_size, stop=stop,
                ranges=ranges)
        ran += 1
    return ran
