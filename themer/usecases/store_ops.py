"""Store use cases: import an export, re-tag history, run jobs, keys, and the roadmap."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themer.errors import Errors
from themer.usecases.context import Context
from themer.usecases.inputs import Inputs, stream_file

if TYPE_CHECKING:
    from themer.store.models import Job
    from themer.store.repository import Store

__all__ = ["ImportRequest", "RetagRequest", "create_key", "import_export", "retag",
           "run_jobs", "save_roadmap", "stored_roadmap"]


@dataclass
class _Tally:
    """What a streamed import has read so far."""

    rows: int = 0
    kept: int = 0
    problems: int = 0
    profile: str = ""


@dataclass(frozen=True)
class ImportRequest:
    inputs: Inputs
    source: str = "import"
    wait: bool = True  # tag here, or leave the job queued
    dry_run: bool = False


def _batches(ctx: Context, request: ImportRequest, tally: _Tally) -> Iterator[list[Any]]:
    from themer.store.repository import responses_from_frame

    inputs = request.inputs
    assert inputs.path is not None
    with ctx.progress(f"reading {inputs.path.name}", None) as advance:
        for part in stream_file(ctx, inputs, chunk_rows=ctx.settings.import_chunk_rows,
                                lenient=inputs.lenient or request.dry_run):
            tally.rows += part.n_input_rows
            tally.kept += len(part.responses)
            tally.problems += len(part.problems)
            tally.profile = part.profile
            advance(part.n_input_rows)
            yield responses_from_frame(part.responses, scale=part.mapping.scale,
                                       source=request.source, origin=str(inputs.path))


def import_export(ctx: Context, request: ImportRequest) -> dict[str, Any]:
    """Store an export (idempotent) and tag the new responses (a job)."""
    from themer.store.jobs import create_tag_job

    inputs = request.inputs
    if inputs.path is None:
        raise Errors.THM184.error(action="an import")
    tally = _Tally()
    if request.dry_run:
        for _ in _batches(ctx, request, tally):
            pass
        return {"dry_run": True, "input": str(inputs.path), "profile": tally.profile,
                "rows": tally.rows, "kept": tally.kept, "problems": tally.problems}
    parts = _batches(ctx, request, tally)
    first = next(parts)  # an unreadable or empty file fails here, before a store is opened
    store = ctx.open_store()
    version = store.active_taxonomy()
    # a missing or bad taxonomy must fail before the rows are stored, not after
    first_taxonomy = _starting_taxonomy(ctx, inputs.taxonomy) if version is None else None
    # one transaction: a bad row in the last chunk (strict mode) leaves the store untouched
    created, existing = store.ingest_all(itertools.chain([first], parts),
                                         import_batch=uuid.uuid4().hex)
    if tally.problems:
        ctx.notes(f"{tally.problems} problem(s); {tally.kept} of {tally.rows} rows kept.")
    if version is None:
        assert first_taxonomy is not None
        info, text = first_taxonomy
        version = store.activate_taxonomy(info, text, author="themer import")
    job = create_tag_job(store, version.id, created, f"import {inputs.path.name}")
    ctx.notes(f"stored {len(created)} new responses ({existing} already there); job {job.id} "
              "tags them")
    answer: dict[str, Any] = {"created": len(created), "existing": existing, "job": job.id,
                              "rows": tally.rows, "problems": tally.problems}
    if request.wait:
        final = run_jobs(ctx, store, job.id, job.total, "tagging")
        answer["tag_rows"] = final.counts.get("tag_rows", 0)
    return answer


def _starting_taxonomy(ctx: Context, path: Path | None) -> tuple[Any, str]:
    """The taxonomy (and its YAML) a new store starts with."""
    from themer.usecases.inputs import resolve_taxonomy, taxonomy_text

    info = resolve_taxonomy(ctx, path)
    return info, taxonomy_text(info)


def run_jobs(ctx: Context, store: Store, job_id: str, total: int, label: str,
             ranges: Any = None) -> Job:
    """Run queued jobs here, showing the job's progress from its row (as GET /v1/jobs reads
    it); the job's final row, or an error when it did not finish."""
    from themer.runtime.encoders import store_tagger_for
    from themer.store.jobs import get_job, run_worker

    stop = threading.Event()
    runner = threading.Thread(target=run_worker, args=(store, store_tagger_for(ctx.settings)),
                              kwargs={"once": True, "stop": stop, "ranges": ranges,
                                      "chunk_size": ctx.settings.job_chunk})
    runner.start()
    done = 0
    with ctx.progress(label, max(total, 1)) as advance:
        while runner.is_alive():
            runner.join(0.5)
            current = get_job(store, job_id)
            if current is not None and current.done > done:
                advance(current.done - done)
                done = current.done
    final = get_job(store, job_id)
    if final is None or final.state != "done":
        raise Errors.THM168.error(job_id=job_id, state=final.state if final else "missing",
                                  error=final.error if final else "")
    return final


@dataclass(frozen=True)
class RetagRequest:
    taxonomy: Path | None = None
    wait: bool = True
    engine: str = "local"
    ray_address: str | None = None
    ray_actors: int = 2
    ray_range: int = 5_000


def retag(ctx: Context, request: RetagRequest) -> dict[str, Any]:
    """Store the taxonomy as a new version and re-tag the stored history with it."""
    from themer.store.jobs import create_retag_job
    from themer.usecases.tagging import check_engine

    check_engine(request.engine)
    if request.engine == "ray" and not request.wait:
        raise Errors.THM181.error()
    from themer.usecases.inputs import resolve_taxonomy, taxonomy_text

    store = ctx.open_store()
    info = resolve_taxonomy(ctx, request.taxonomy)
    path = info.source
    previous = store.active_taxonomy()
    if previous is not None and previous.content_hash == info.content_hash:
        raise Errors.THM167.error(path=path)
    version = store.add_taxonomy(info, taxonomy_text(info), author="themer retag",
                                 activate=previous is None)
    job = create_retag_job(store, version.id, previous.id if previous else None)
    ctx.notes(f"job {job.id}: re-tag {job.total} responses with {path} v{info.version}")
    answer: dict[str, Any] = {"job": job.id, "total": job.total, "version": info.version}
    if not request.wait:
        return answer
    ranges = None
    if request.engine == "ray":
        from themer.runtime.ray_engine import RayRanges

        ranges = RayRanges(ctx.settings, address=request.ray_address, actors=request.ray_actors,
                           range_size=request.ray_range)
        ctx.notes(f"ray: {request.ray_actors} actor(s) at {request.ray_address or 'a local Ray'}"
                  f", ranges of {request.ray_range} responses; encoder {ctx.settings.encoder}")
    final = run_jobs(ctx, store, job.id, job.total, "re-tagging", ranges=ranges)
    answer.update(done=final.done, added=sum(final.counts.get("added", {}).values()),
                  removed=sum(final.counts.get("removed", {}).values()))
    return answer


def create_key(ctx: Context, scope: str, name: str | None) -> str:
    """A new API key (only its hash is stored)."""
    if scope not in ("read", "write", "admin"):
        raise Errors.THM166.error(scope=scope)
    return ctx.open_store().create_key(scope, name)  # type: ignore[arg-type]


def stored_roadmap(ctx: Context) -> dict[str, Any]:
    """The store's roadmap document (empty when none was saved)."""
    return {"roadmap": ctx.open_store().roadmap() or {}}


def save_roadmap(ctx: Context, document: dict[str, Any], author: str) -> dict[str, Any]:
    """Replace the store's roadmap (checked against the active taxonomy); no taxonomy
    version and no re-tag come of it."""
    store = ctx.open_store()
    store.save_roadmap(document, author)
    return stored_roadmap(ctx)
