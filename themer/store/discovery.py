"""Theme discovery over the stored history: the job, its result, and analysts' decisions.

``POST /v1/discover`` queues a ``discover`` job; a worker runs it (:func:`run_discover_job`) on
the statements of the active taxonomy version (those left unassigned, or all), with the cached
embeddings, tracks ids against the previous run (or a named one), applies the recorded
decisions and stores the result in ``discovery_runs`` under the job's id. Decisions are rows in
``discovery_decisions``; a promote also stores the next taxonomy version (its re-tag job is
created by the caller, as for ``PUT /v1/taxonomy``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select, update

from themer.discovery.cluster import Discovery
from themer.discovery.decisions import Decision
from themer.discovery.labels import load_label_nlp
from themer.discovery.pipeline import DiscoverOptions, run_discovery
from themer.nlp.tagger import Tagger
from themer.schema import UNASSIGNED
from themer.store.job_state import DISCOVER, finish_job
from themer.store.models import (
    DiscoveryDecision,
    DiscoveryRun,
    Job,
    ResponseRow,
    StatementRow,
    TagRow,
    TaxonomyVersion,
)
from themer.store.repository import Filters, Store
from themer.taxonomy import parse_taxonomy

__all__ = ["DISCOVER", "create_discover_job", "discovery_run", "latest_run", "record_decision",
           "run_discover_job", "stored_decisions"]

MAX_STATEMENTS = 1_000_000  # beyond this a run is refused: narrow the filters


def create_discover_job(store: Store, version_id: int, params: dict[str, Any]) -> Job:
    """Queue a discovery run; ``params`` are JSON (filters, options, ``previous_run``)."""
    with store.sessions.begin() as session:
        job = Job(id=str(uuid.uuid4()), kind=DISCOVER, total=0, counts={},
                  params={"taxonomy_version_id": version_id, **params})
        session.add(job)
    return job


def _filters(params: dict[str, Any]) -> Filters:
    def day(value: Any) -> date | None:
        return date.fromisoformat(value) if value else None

    return Filters(params.get("survey_type"), day(params.get("date_from")),
                   day(params.get("date_to")),
                   tuple((str(k), str(v)) for k, v in params.get("segments", [])))


def statements_for_discovery(store: Store, version_id: int, params: dict[str, Any]
                             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(statements, responses) the run clusters; response ids are the sources' own ids."""
    filters = _filters(params)
    categories = params.get("categories") or ["promoter", "passive", "detractor"]
    wanted = dict(filters.segments)
    with store.sessions() as session:
        rows = session.execute(filters.apply(
            select(ResponseRow.id, ResponseRow.source_response_id, ResponseRow.category,
                   ResponseRow.segments).where(ResponseRow.category.in_(categories)))).all()
        rows = [r for r in rows if all(str(r.segments.get(k, "")) == v
                                       for k, v in wanted.items())]
        known = {int(r.id): str(r.source_response_id) for r in rows}
        query = (select(StatementRow.id, StatementRow.response_id, StatementRow.text)
                 .join(TagRow, TagRow.statement_id == StatementRow.id)
                 .where(TagRow.taxonomy_version_id == version_id, TagRow.kind == "area")
                 .where(StatementRow.response_id.in_(
                     filters.apply(select(ResponseRow.id)
                                   .where(ResponseRow.category.in_(categories)))
                     .scalar_subquery())))
        if not params.get("all"):
            query = query.where(TagRow.label == UNASSIGNED)
        found = session.execute(query.distinct().order_by(StatementRow.id)
                                .limit(MAX_STATEMENTS + 1)).all()
    found = [r for r in found if int(r.response_id) in known]
    statements = pd.DataFrame({"response_id": [known[int(r.response_id)] for r in found],
                               "statement_id": [str(r.id) for r in found],
                               "statement": [str(r.text) for r in found]})
    responses = pd.DataFrame({"response_id": [str(r.source_response_id) for r in rows],
                              "category": [str(r.category) for r in rows]})
    return statements, responses.drop_duplicates("response_id")


@contextmanager
def _heartbeat(store: Store, job_id: str, worker: str, every: float = 5.0) -> Iterator[None]:
    """Keep the job's heartbeat fresh while one long step runs (so no one takes it over)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            with store.sessions.begin() as session:
                session.execute(update(Job).where(Job.id == job_id, Job.worker == worker)
                                .values(heartbeat_at=datetime.now(UTC)))

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def latest_run(store: Store) -> DiscoveryRun | None:
    with store.sessions() as session:
        return session.scalars(select(DiscoveryRun).order_by(DiscoveryRun.created_at.desc())
                               .limit(1)).first()


def discovery_run(store: Store, run_id: str) -> DiscoveryRun | None:
    with store.sessions() as session:
        return session.get(DiscoveryRun, run_id)


def stored_decisions(store: Store) -> list[Decision]:
    with store.sessions() as session:
        rows = session.scalars(select(DiscoveryDecision).order_by(DiscoveryDecision.id)).all()
    return [Decision(action=r.action, candidate=r.candidate, into=r.into,
                     label=r.label, area=r.area, by=r.by, at=r.created_at.isoformat())
            for r in rows]


def record_decision(store: Store, run_id: str, decision: Decision,
                    taxonomy_version_id: int | None = None) -> DiscoveryDecision:
    with store.sessions.begin() as session:
        row = DiscoveryDecision(run_id=run_id, action=decision.action,
                                candidate=decision.candidate, into=decision.into,
                                label=decision.label, area=decision.area, by=decision.by,
                                taxonomy_version_id=taxonomy_version_id)
        session.add(row)
    return row


def run_discover_job(store: Store, job: Job, tagger_for: Callable[[TaxonomyVersion], Tagger],
                     *, worker: str) -> str:
    """Run a claimed discovery job to the end; returns its final state."""
    params = dict(job.params)
    try:
        with store.sessions() as session:
            version = session.get(TaxonomyVersion, int(params["taxonomy_version_id"]))
        if version is None:
            return finish_job(store, job.id, worker, "failed", "taxonomy version is gone")
        statements, responses = statements_for_discovery(store, version.id, params)
        if len(statements) > MAX_STATEMENTS:
            return finish_job(store, job.id, worker, "failed",
                           f"more than {MAX_STATEMENTS} statements: narrow the filters")
        if statements["statement"].nunique() < 2:
            return finish_job(store, job.id, worker, "failed",
                           "fewer than two distinct statements match: nothing to cluster")
        previous_id = params.get("previous_run")
        previous = (discovery_run(store, previous_id) if previous_id else latest_run(store))
        with _heartbeat(store, job.id, worker):
            tagger = tagger_for(version)
            found: Discovery = run_discovery(
                statements, responses, tagger.encoder,
                parse_taxonomy(version.yaml, f"taxonomy version {version.version}"),
                DiscoverOptions(min_cluster_size=params.get("min_cluster_size"),
                                reassign=float(params.get("reassign", 0.35))),
                previous=previous.result if previous is not None else None,
                decisions=stored_decisions(store), nlp=load_label_nlp())
        with store.sessions.begin() as session:
            current = session.get(Job, job.id)
            if current is None or current.state != "running" or current.worker != worker:
                return current.state if current is not None else "failed"
            session.add(DiscoveryRun(id=job.id, taxonomy_version_id=version.id, params=params,
                                     result={**found.to_dict(),
                                             "previous_run": previous.id if previous else None}))
            current.total = current.done = found.n_statements
            current.counts = {"candidates": len(found.candidates),
                              "outlier_rate": round(found.outlier_rate, 4),
                              "unclustered_rate": round(found.unclustered_rate, 4)}
            current.state, current.finished_at = "done", datetime.now(UTC)
        return "done"
    except Exception as exc:  # the job records why; the worker goes on with other jobs
        return finish_job(store, job.id, worker, "failed", f"{type(exc).__name__}: {exc}")
