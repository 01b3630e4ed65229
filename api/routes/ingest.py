"""Ingest routes: responses pushed by CX tools, and export files uploaded with a mapping."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Response, UploadFile

from api.deps import EngineDep, MetricsDep, WriteKey
from api.errors import ApiError
from api.routes.jobs import job_out
from api.routes.tagging import batch_limit
from api.schemas import ImportOut, IngestOut, ResponsesRequest
from themer.errors import Errors, ThemerError
from themer.ingest import load_mapping, load_responses
from themer.store.jobs import create_tag_job
from themer.store.pipeline import tag_stored
from themer.store.repository import responses_from_frame

router = APIRouter(tags=["ingest"])


@router.post("/v1/responses", status_code=200, response_model=IngestOut,
             responses={202: {"model": IngestOut, "description": "Stored; a job tags them."}})
def ingest(body: ResponsesRequest, engine: EngineDep, metrics: MetricsDep, response: Response,
           key: WriteKey,
           idempotency_key: Annotated[str | None, Header(max_length=200)] = None
           ) -> dict[str, Any]:
    """Store responses (idempotent on source + id, and on Idempotency-Key) and tag the new
    ones: at once up to THEMER_MAX_BATCH, else by a job (202 + Location of the job)."""
    settings = engine.settings
    batch_limit(len(body.responses), settings.max_ingest, "responses")
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    if idempotency_key:
        earlier = engine.store.replay(key.id, idempotency_key)
        if earlier is not None:
            if earlier.request_hash != digest:
                raise ApiError.of(Errors.THM622)
            response.status_code = earlier.status_code
            response.headers["Idempotent-Replay"] = "true"
            return earlier.body
    results = engine.store.ingest(body.responses)
    created = [r.id for r in results if r.created]
    metrics.ingested.inc(len(created))
    answer: dict[str, Any] = {"created": len(created), "existing": len(results) - len(created),
                              "responses": [asdict(r) for r in results]}
    if len(body.responses) > settings.max_batch:
        job = create_tag_job(engine.store, engine.active().id, created, "responses")
        response.status_code = 202
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        answer["job"] = job_out(job)
    else:
        tagger = engine.tagger()
        with engine.tagging:
            answer["tag_rows"] = tag_stored(engine.store, tagger, engine.active().id, created)
        metrics.tag_rows.labels(route="responses").inc(answer["tag_rows"])
    if idempotency_key:
        engine.store.remember(key.id, idempotency_key, digest, response.status_code or 200,
                              answer)
    return answer


@router.post("/v1/imports", status_code=202, response_model=ImportOut)
def imports(engine: EngineDep, metrics: MetricsDep, response: Response, _: WriteKey,
            file: Annotated[UploadFile, File(description="CSV/TSV/XLSX/JSON/JSONL export")],
            mapping: Annotated[str, Form(max_length=20_000, description=(
                "Column mapping YAML: id, score, text, date, survey_type, segments, scale"))],
            source: Annotated[str, Form(min_length=1, max_length=200)] = "import"
            ) -> dict[str, Any]:
    """Upload a survey export with its column mapping: every row is validated first (a bad
    row is a 422 naming the row and column, nothing stored), then the responses are stored
    and a job tags them (202 + Location)."""
    name = Path(file.filename or "upload.csv").name or "upload.csv"
    batch = uuid.uuid4().hex
    with tempfile.TemporaryDirectory() as folder:
        upload = Path(folder) / name
        with upload.open("wb") as handle:
            shutil.copyfileobj(file.file, handle)
        spec = Path(folder) / "mapping"
        spec.write_text(mapping, encoding="utf-8")
        try:
            columns = load_mapping(spec)
            loaded = load_responses(upload, columns, strict=True)
        except ThemerError as exc:  # name the user's file, not our temp folder
            raise ApiError.relay(exc, exc.message.replace(f"{folder}/", "")) from None
    # a row the store refuses (comment over the limit) is a 422 naming it, nothing stored
    items = responses_from_frame(loaded.responses, scale=columns.scale, source=source,
                                 origin=name)
    results = engine.store.ingest(items, import_batch=batch)
    created = [r.id for r in results if r.created]
    metrics.ingested.inc(len(created))
    job = create_tag_job(engine.store, engine.active().id, created, f"import {batch}")
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return {"import_batch": batch, "rows": loaded.n_input_rows, "created": len(created),
            "existing": len(results) - len(created), "job": job_out(job)}
