"""The HTTP service: a thin FastAPI layer over themer (store, tagger, analyses).

    themer serve                       # uvicorn on 127.0.0.1:8000, settings from THEMER_*
    create_app(Settings(...))          # in tests

Every route but /healthz and /readyz needs an API key (``X-API-Key`` or ``Authorization:
Bearer``) with the route's scope: read < write < admin.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import Depends, FastAPI, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from prometheus_fastapi_instrumentator import Instrumentator
from pydantic import AnyHttpUrl, BaseModel, Field, ValidationError

from api.errors import ApiError, install
from api.limits import BodyLimit, RateLimiter
from themer import __version__
from themer.analytics.payloads import adoption_payload, priorities_payload, trends_payload
from themer.analytics.priorities import load_roadmap, recovery_counts
from themer.analytics.priorities import priorities as rank_priorities
from themer.analytics.segments import segment_table
from themer.analytics.themes import survey_groups, theme_mentions, theme_table
from themer.config import Settings
from themer.discovery.decisions import Decision
from themer.discovery.decisions import promote as promote_candidate
from themer.errors import ThemerError
from themer.ingest.tables import load_mapping, load_responses
from themer.nlp.embed import Encoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import Tagger
from themer.report.sections import report_html
from themer.runtime.encoders import cached_pair, fallback_encoder, primary_encoder
from themer.store.db import ping
from themer.store.discovery import (
    DISCOVER,
    create_discover_job,
    discovery_run,
    latest_run,
    record_decision,
    stored_decisions,
)
from themer.store.jobs import (
    cancel_job,
    create_retag_job,
    create_tag_job,
    get_job,
    job_counts,
    run_worker,
)
from themer.store.models import ApiKey, Job, TaxonomyVersion
from themer.store.pipeline import tag_stored, tagger_for_version
from themer.store.repository import (
    Filters,
    ResponseIn,
    Scope,
    Store,
    responses_from_frame,
    scope_allows,
)
from themer.store.webhooks import subscribe
from themer.taxonomy import load_taxonomy, parse_taxonomy

Category = Literal["promoter", "passive", "detractor"]


class Engine:
    """What the routes share: the store, the encoder (loaded once, in the background) and a
    tagger per taxonomy version. The active version is read from the store on every request,
    so a re-tag job that finishes switches the API over without a restart."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        path = settings.taxonomy
        if store.active_taxonomy() is None:  # an empty store starts with THEMER_TAXONOMY;
            # later edits go through PUT /v1/taxonomy or `themer retag` (a re-tag job each)
            store.activate_taxonomy(load_taxonomy(path), path.read_text(encoding="utf-8"),
                                    author="themer serve")
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self._base: Encoder | None = None
        self._fallback: Encoder | None = None  # cascade mode: MiniLM for unsure statements
        self._taggers: dict[tuple[int, str], Tagger] = {}
        self._lock = threading.Lock()
        # One tagging at a time per cache object: the encoder's cache is not thread-safe, and
        # on 2 cores two forward passes at once are no faster than one after the other.
        self.tagging = threading.Lock()

    @property
    def model_loaded(self) -> bool:
        return self._base is not None

    def load_model(self) -> None:
        with self._lock:  # one model load, even under concurrent first requests
            if self._base is None:  # THEMER_ENCODER: minilm, static or cascade
                self._fallback = fallback_encoder(self.settings)
                self._base = primary_encoder(self.settings)

    def tagger_for(self, version: TaxonomyVersion, user: str = "api") -> Tagger:
        """The tagger of a stored taxonomy version; ``user`` gets its own cache connection."""
        self.load_model()
        with self._lock:
            key = (version.id, user)
            if key not in self._taggers:
                assert self._base is not None
                encoder, fallback = cached_pair(self.settings, self._base, self._fallback)
                self._taggers[key] = tagger_for_version(
                    version, encoder, models_dir=self.settings.models_dir,
                    splitter=StatementSplitter(splitter=self.settings.splitter),
                    fallback=fallback, band=self.settings.cascade_band)
            return self._taggers[key]

    def active(self) -> TaxonomyVersion:
        version = self.store.active_taxonomy()
        if version is None:
            raise ApiError(503, "THM625", "no active taxonomy in the store")
        return version

    def tagger(self) -> Tagger:
        return self.tagger_for(self.active())


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def require(scope: Scope) -> Callable[..., ApiKey]:
    """Dependency: a valid key (401 otherwise) with at least ``scope`` (403 otherwise)."""

    def check(request: Request,
              x_api_key: Annotated[str | None, Header()] = None,
              authorization: Annotated[str | None, Header()] = None) -> ApiKey:
        presented = x_api_key or (authorization[7:].strip() if authorization and
                                  authorization.lower().startswith("bearer ") else None)
        if not presented:
            raise ApiError(401, "THM610", "no API key: send X-API-Key or Authorization: Bearer",
                           headers={"WWW-Authenticate": "Bearer"})
        engine = _engine(request)
        key = engine.store.find_key(presented)
        if key is None:
            raise ApiError(401, "THM611", "unknown or revoked API key",
                           headers={"WWW-Authenticate": "Bearer"})
        if not scope_allows(key.scope, scope):
            raise ApiError(403, "THM612", f"this key's scope is {key.scope}; the route needs "
                           f"{scope}")
        wait = engine.limiter.take(key.id)
        if wait:
            raise ApiError(429, "THM613", "rate limit exceeded for this key",
                           headers={"Retry-After": str(max(1, round(wait)))})
        return key

    return check


class Comment(BaseModel):
    id: str | None = Field(default=None, max_length=200, description="Echoed back.")
    text: str = Field(max_length=10_000, examples=["Search is slow, but support was great."])


class ClassifyRequest(BaseModel):
    comments: list[Comment] = Field(min_length=1, max_length=10_000)


class ResponsesRequest(BaseModel):
    responses: list[ResponseIn] = Field(min_length=1, max_length=10_000)


def _filters(survey_type: str | None, date_from: date | None, date_to: date | None,
             segment: list[str] | None) -> Filters:
    pairs = []
    for item in segment or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ApiError(422, "THM620", f"segment filter '{item}': expected NAME=VALUE")
        pairs.append((name, value))
    return Filters(survey_type, date_from, date_to, tuple(pairs))


def _one_survey_group(engine: Engine, filters: Filters, version_id: int, *,
                      with_text: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(responses, tags, survey type) for an analysis: 404 if none match, 422 if the filters
    leave several survey types (relationship and transactional NPS are never pooled)."""
    responses, tags = engine.store.analysis_frames(filters, version_id, with_text=with_text)
    if responses.empty:
        raise ApiError(404, "THM623", "no responses match these filters")
    groups = survey_groups(responses)
    if len(groups) > 1:
        raise ApiError(422, "THM624", f"the responses hold several survey types {groups}; "
                       "relationship and transactional NPS are never pooled: pass survey_type")
    return responses, tags, next(iter(groups))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine = Engine(settings, Store.open(settings.store_url()))
        # Load the model in the background: /readyz says 503 until it is in memory.
        loading = threading.Thread(target=engine.load_model, name="themer-model-load",
                                   daemon=True)
        loading.start()
        stop = threading.Event()
        worker = threading.Thread(
            target=run_worker, name="themer-worker", daemon=True,
            args=(engine.store, lambda version: engine.tagger_for(version, "worker")),
            kwargs={"stop": stop, "poll_seconds": 0.5, "chunk_size": settings.job_chunk})
        if settings.worker == "embedded":
            worker.start()
        yield
        stop.set()
        loading.join()  # never exit while torch is still loading in another thread
        if worker.is_alive():
            worker.join()
        engine.store.engine.dispose()

    app = FastAPI(title="themer", version=__version__, lifespan=lifespan,
                  description="NPS feedback theming: tag comments, theme tables, analytics.")
    install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       per_path={"/v1/imports": settings.max_upload_bytes})
    # A registry per app: two apps in one process (tests) must not share collectors.
    registry = CollectorRegistry()
    Instrumentator(registry=registry, excluded_handlers=["/metrics"]).instrument(app)
    tagged_counter = Counter("themer_tag_rows_total", "Tag rows written or returned",
                             ["route"], registry=registry)
    ingested_counter = Counter("themer_responses_ingested_total", "Responses stored",
                               registry=registry)
    jobs_gauge = Gauge("themer_jobs", "Jobs in the store by state", ["state"],
                       registry=registry)

    def metrics_body(request: Request) -> Response:
        for state, count in job_counts(_engine(request).store).items():
            jobs_gauge.labels(state=state).set(count)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    if settings.metrics_public:
        @app.get("/metrics", tags=["ops"], include_in_schema=True)
        def metrics_open(request: Request) -> Response:
            """Prometheus metrics (open: THEMER_METRICS_PUBLIC=true)."""
            return metrics_body(request)
    else:
        @app.get("/metrics", tags=["ops"], include_in_schema=True)
        def metrics(request: Request, _: Annotated[ApiKey, Depends(require("read"))]
                    ) -> Response:
            """Prometheus metrics: HTTP latency and counts, tag rows, ingests, jobs by state."""
            return metrics_body(request)

    def batch_limit(size: int, what: str) -> None:
        if size > settings.max_batch:
            raise ApiError(422, "THM621", f"{size} {what} in one call; the limit is "
                           f"{settings.max_batch} (THEMER_MAX_BATCH)")

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz(request: Request) -> JSONResponse:
        """The store answers and the model is loaded (503 until both)."""
        engine = _engine(request)
        ping(engine.store.engine)
        ready = engine.model_loaded
        return JSONResponse({"store": "ok", "model": "loaded" if ready else "not loaded"},
                            status_code=200 if ready else 503)

    @app.post("/v1/classify", tags=["tagging"])
    def classify(body: ClassifyRequest, request: Request,
                 _: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
        """Tags per statement for 1..N comments; nothing is stored."""
        batch_limit(len(body.comments), "comments")
        engine = _engine(request)
        tagger = engine.tagger()
        frame = pd.DataFrame({"response_id": [str(i) for i in range(len(body.comments))],
                              "text:comment": [c.text for c in body.comments]})
        with engine.tagging:
            statements = tagger.split(frame)
            tags = tagger.tag_statements(statements) if len(statements) else statements
        results: list[dict[str, Any]] = [{"id": c.id, "statements": []} for c in body.comments]
        for _, rows in (tags.groupby("statement_id", sort=False) if len(tags) else []):
            first = rows.iloc[0]
            labels = [{"kind": r.kind, "label": r.label, "confidence": float(r.confidence)}
                      for r in rows.itertuples()]
            results[int(first["response_id"])]["statements"].append({
                "statement": first["statement"], "start": int(first["start"]),
                "end": int(first["end"]),
                "areas": [x for x in labels if x["kind"] == "area"],
                "type": next(x for x in labels if x["kind"] == "type")})
        tagged_counter.labels(route="classify").inc(len(tags))
        return {"taxonomy_version": tagger.taxonomy.version, "classifier": tagger.sources,
                "results": results}

    @app.post("/v1/responses", tags=["ingest"], status_code=200)
    def ingest(body: ResponsesRequest, request: Request, response: Response,
               key: Annotated[ApiKey, Depends(require("write"))],
               idempotency_key: Annotated[str | None, Header(max_length=200)] = None
               ) -> dict[str, Any]:
        """Store responses (idempotent on source + id, and on Idempotency-Key) and tag the new
        ones: at once up to THEMER_MAX_BATCH, else by a job (202 + Location of the job)."""
        if len(body.responses) > settings.max_ingest:
            raise ApiError(422, "THM621", f"{len(body.responses)} responses in one call; the "
                           f"limit is {settings.max_ingest} (THEMER_MAX_INGEST)")
        engine = _engine(request)
        digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        if idempotency_key:
            earlier = engine.store.replay(key.id, idempotency_key)
            if earlier is not None:
                if earlier.request_hash != digest:
                    raise ApiError(422, "THM622", "this Idempotency-Key was used with a "
                                   "different body")
                response.status_code = earlier.status_code
                response.headers["Idempotent-Replay"] = "true"
                return earlier.body
        results = engine.store.ingest(body.responses)
        created = [r.id for r in results if r.created]
        ingested_counter.inc(len(created))
        answer: dict[str, Any] = {"created": len(created),
                                  "existing": len(results) - len(created),
                                  "responses": [asdict(r) for r in results]}
        if len(body.responses) > settings.max_batch:
            job = create_tag_job(engine.store, engine.active().id, created, "responses")
            response.status_code = 202
            response.headers["Location"] = f"/v1/jobs/{job.id}"
            answer["job"] = _job(job)
        else:
            tagger = engine.tagger()
            with engine.tagging:
                answer["tag_rows"] = tag_stored(engine.store, tagger, engine.active().id,
                                                created)
            tagged_counter.labels(route="responses").inc(answer["tag_rows"])
        if idempotency_key:
            engine.store.remember(key.id, idempotency_key, digest, response.status_code or 200,
                                  answer)
        return answer

    @app.post("/v1/imports", tags=["ingest"], status_code=202)
    def imports(request: Request, response: Response,
                _: Annotated[ApiKey, Depends(require("write"))],
                file: Annotated[UploadFile, File(description="CSV/TSV/XLSX/JSON/JSONL export")],
                mapping: Annotated[str, Form(max_length=20_000, description=(
                    "Column mapping YAML: id, score, text, date, survey_type, segments, scale"))],
                source: Annotated[str, Form(min_length=1, max_length=200)] = "import"
                ) -> dict[str, Any]:
        """Upload a survey export with its column mapping: every row is validated first (a bad
        row is a 422 naming the row and column, nothing stored), then the responses are stored
        and a job tags them (202 + Location)."""
        engine = _engine(request)
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
                raise ApiError(422, exc.code, exc.message.replace(f"{folder}/", "")) from None
        # a row the store refuses (comment over the limit) is a 422 naming it, nothing stored
        items = responses_from_frame(loaded.responses, scale=columns.scale, source=source,
                                     origin=name)
        results = engine.store.ingest(items, import_batch=batch)
        created = [r.id for r in results if r.created]
        ingested_counter.inc(len(created))
        job = create_tag_job(engine.store, engine.active().id, created, f"import {batch}")
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        return {"import_batch": batch, "rows": loaded.n_input_rows, "created": len(created),
                "existing": len(results) - len(created), "job": _job(job)}

    @app.get("/v1/themes", tags=["analytics"])
    def themes(request: Request, _: Annotated[ApiKey, Depends(require("read"))],
               survey_type: str | None = None, date_from: date | None = None,
               date_to: date | None = None,
               segment: Annotated[list[str] | None, Query(max_length=20)] = None,
               min_n: Annotated[int, Query(ge=1, le=100_000)] = 30,
               kind: Literal["area", "type", "area_type"] | None = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        """The theme table (the same JSON as `themer themes --json`), filtered and paginated."""
        engine = _engine(request)
        version = engine.active()
        responses, tags, group = _one_survey_group(
            engine, _filters(survey_type, date_from, date_to, segment), version.id)
        table = theme_table(responses, tags, min_n=min_n).to_dict()
        rows = [t for t in table["themes"] if kind is None or t["kind"] == kind]
        return {**table, "themes": rows[offset:offset + limit], "total": len(rows),
                "limit": limit, "offset": offset, "survey_type": group,
                "taxonomy_version": version.version}

    @app.get("/v1/themes/{theme}/comments", tags=["analytics"])
    def theme_comments(theme: str, request: Request,
                       _: Annotated[ApiKey, Depends(require("read"))],
                       kind: Literal["area", "type"] = "area",
                       category: Category | None = None, survey_type: str | None = None,
                       date_from: date | None = None, date_to: date | None = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 50,
                       offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        """The evidence: statements tagged with the theme, with their response's score."""
        engine = _engine(request)
        total, page = engine.store.theme_comments(
            theme, kind, engine.active().id,
            _filters(survey_type, date_from, date_to, None), category=category, limit=limit,
            offset=offset)
        return {"theme": theme, "kind": kind, "total": total, "limit": limit, "offset": offset,
                "comments": page}

    @app.get("/v1/segments", tags=["analytics"])
    def segments(request: Request, _: Annotated[ApiKey, Depends(require("read"))],
                 survey_type: str | None = None, date_from: date | None = None,
                 date_to: date | None = None,
                 min_n: Annotated[int, Query(ge=1, le=100_000)] = 30) -> dict[str, Any]:
        """NPS by every stored segment attribute (the same JSON as `themer segments --json`)."""
        engine = _engine(request)
        responses, _tags, group = _one_survey_group(
            engine, _filters(survey_type, date_from, date_to, None), engine.active().id)
        return {"survey_type": group, **segment_table(responses, min_n=min_n).to_dict()}

    @app.get("/v1/adoption", tags=["analytics"])
    def adoption(request: Request, _: Annotated[ApiKey, Depends(require("read"))],
                 feature: Annotated[list[str], Query(min_length=1, max_length=50, description=(
                     "NAME=ATTRIBUTE: a segment attribute holding the adoption flag (1/0, "
                     "yes/no)"))],
                 by: str | None = None, survey_type: str | None = None,
                 date_from: date | None = None, date_to: date | None = None,
                 min_n: Annotated[int, Query(ge=1, le=100_000)] = 30,
                 usage_cut: Annotated[float | None, Query(ge=0, le=1)] = None,
                 nps_cut: Annotated[float | None, Query(ge=-100, le=100)] = None
                 ) -> dict[str, Any]:
        """Feature satisfaction gaps, quadrants and the heatmap (`themer adoption --json`)."""
        engine = _engine(request)
        responses, _tags, group = _one_survey_group(
            engine, _filters(survey_type, date_from, date_to, None), engine.active().id)
        for item in feature:
            name, sep, attribute = item.partition("=")
            if not sep or not name or f"segment:{attribute}" not in responses.columns:
                raise ApiError(422, "THM628", f"feature '{item}': expected NAME=ATTRIBUTE with "
                               "a stored segment attribute")
            responses[f"segment:feature:{name}"] = responses[f"segment:{attribute}"]
        if by is not None and f"segment:{by}" not in responses.columns:
            raise ApiError(422, "THM628", f"no stored segment attribute '{by}'")
        return {"survey_type": group, **adoption_payload(
            responses, min_n=min_n, usage_cut=usage_cut, nps_cut=nps_cut, by=by)}

    @app.get("/v1/trends", tags=["analytics"])
    def trends(request: Request, _: Annotated[ApiKey, Depends(require("read"))],
               period: Literal["month", "quarter"] = "month", themes: bool = False,
               kind: Literal["area", "type", "area_type"] = "area",
               survey_type: str | None = None, date_from: date | None = None,
               date_to: date | None = None,
               segment: Annotated[list[str] | None, Query(max_length=20)] = None,
               min_n: Annotated[int, Query(ge=1, le=100_000)] = 30,
               window: Annotated[int, Query(ge=2, le=60)] = 6,
               spike_sd: Annotated[float, Query(gt=0, le=10)] = 2.0) -> dict[str, Any]:
        """NPS per period; with themes=true theme trends, spikes, decomposition
        (`themer trends --json`)."""
        engine = _engine(request)
        responses, tags, group = _one_survey_group(
            engine, _filters(survey_type, date_from, date_to, segment), engine.active().id)
        mentions = theme_mentions(tags, kind, responses) if themes else None
        return {"survey_type": group, **trends_payload(
            responses, period, min_n=min_n, mentions=mentions, kind=kind, window=window,
            spike_sd=spike_sd)}

    @app.get("/v1/priorities", tags=["analytics"])
    def priorities(request: Request, _: Annotated[ApiKey, Depends(require("read"))],
                   recovery_question: str | None = None,
                   edge_share: Annotated[float, Query(ge=0, lt=1)] = 0.05,
                   impact_cut: Annotated[float | None, Query(ge=0, le=200)] = None,
                   survey_type: str | None = None, date_from: date | None = None,
                   date_to: date | None = None,
                   min_n: Annotated[int, Query(ge=1, le=100_000)] = 30) -> dict[str, Any]:
        """The ranked list (`themer priorities --json`); the roadmap is the active taxonomy's
        `roadmap:` section."""
        engine = _engine(request)
        version = engine.active()
        responses, tags, group = _one_survey_group(
            engine, _filters(survey_type, date_from, date_to, None), version.id)
        taxonomy = parse_taxonomy(version.yaml, f"taxonomy v{version.version}")
        plan = load_roadmap(None, taxonomy)
        questions = set(tags["question"]) if len(tags) else set()
        question = recovery_question or ("improve" if "improve" in questions else None)
        recovery = recovery_counts(tags, responses, question) if question else {}
        table = theme_table(responses, tags, min_n=min_n)
        ranked = rank_priorities(table, plan, recovery=recovery, edge_share=edge_share,
                                 impact_cut=impact_cut)
        return {"survey_type": group, **priorities_payload(
            table, ranked, recovery_question=question, edge_share=edge_share)}

    @app.get("/v1/report", tags=["analytics"], response_class=HTMLResponse)
    def report(request: Request, _: Annotated[ApiKey, Depends(require("read"))],
               survey_type: str | None = None, date_from: date | None = None,
               date_to: date | None = None,
               segment: Annotated[list[str] | None, Query(max_length=20)] = None,
               min_n: Annotated[int, Query(ge=1, le=100_000)] = 30,
               discovery: bool = True) -> HTMLResponse:
        """The self-contained HTML report of the stored responses (`themer report`): the
        roadmap is the active taxonomy's `roadmap:` section, the candidates those of the latest
        discovery run."""
        engine = _engine(request)
        version = engine.active()
        filters = _filters(survey_type, date_from, date_to, segment)
        responses, tags, group = _one_survey_group(engine, filters, version.id,
                                                   with_text=True)
        taxonomy = parse_taxonomy(version.yaml, f"taxonomy v{version.version}")
        plan = load_roadmap(None, taxonomy)
        run = latest_run(engine.store) if discovery else None
        shown = {"survey type": group, "respondents": str(len(responses)),
                 **({"from": str(date_from)} if date_from else {}),
                 **({"to": str(date_to)} if date_to else {}),
                 **({"segment": ", ".join(segment)} if segment else {})}
        html = report_html(
            theme_table(responses, tags, min_n=min_n), tags, responses,
            context={"source": "themer store", "taxonomy": f"v{version.version}",
                     "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")},
            filters=shown, min_n=min_n,
            candidates=run.result.get("candidates", []) if run is not None else [],
            roadmap=plan if plan.effort or plan.planned else None)
        return HTMLResponse(html)

    @app.get("/v1/taxonomy", tags=["taxonomy"])
    def taxonomy(request: Request, _: Annotated[ApiKey, Depends(require("read"))]
                 ) -> dict[str, Any]:
        """Stored taxonomy versions (newest last), the active one, and each one's diff."""
        versions = _engine(request).store.taxonomy_versions()
        return {"versions": [{"id": v.id, "version": v.version, "hash": v.content_hash,
                              "active": v.active, "author": v.author,
                              "created_at": v.created_at.isoformat(), "diff": v.diff}
                             for v in versions]}

    @app.put("/v1/taxonomy", tags=["taxonomy"], status_code=202)
    def put_taxonomy(body: TaxonomyRequest, request: Request, response: Response,
                     key: Annotated[ApiKey, Depends(require("admin"))]) -> dict[str, Any]:
        """Store a new taxonomy version and start re-tagging history with it (from cached
        embeddings). The version becomes active when the job is done."""
        engine = _engine(request)
        info = parse_taxonomy(body.yaml, "request body")  # 422 naming the key and line if bad
        previous = engine.active()
        if info.content_hash == previous.content_hash:
            raise ApiError(422, "THM626", "this taxonomy is already the active version")
        version = engine.store.add_taxonomy(info, body.yaml, author=body.author or key.name,
                                            activate=False)
        job = create_retag_job(engine.store, version.id, previous.id)
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        return {"taxonomy_version": version.version, "hash": version.content_hash,
                "job": _job(job)}

    @app.post("/v1/discover", tags=["discovery"], status_code=202)
    def start_discovery(body: DiscoverRequest, request: Request, response: Response,
                        _: Annotated[ApiKey, Depends(require("write"))]) -> dict[str, Any]:
        """Queue a discovery run over the stored statements the active taxonomy left
        unassigned (``all``: every statement): candidates with labels, quotes, NPS and the
        nearest areas. Poll ``GET /v1/discover/{id}``. Ids carry over from the previous run."""
        engine = _engine(request)
        filters = _filters(None, None, None, body.segment)  # 422 on a bad NAME=VALUE
        if body.previous_run and discovery_run(engine.store, body.previous_run) is None:
            raise ApiError(404, "THM631", f"no discovery run {body.previous_run}")
        params = body.model_dump(mode="json", exclude={"segment"})
        params["segments"] = [list(pair) for pair in filters.segments]
        job = create_discover_job(engine.store, engine.active().id, params)
        response.headers["Location"] = f"/v1/discover/{job.id}"
        return {"id": job.id, "job": _job(job)}

    @app.get("/v1/discover/decisions", tags=["discovery"])
    def discovery_decisions(request: Request, _: Annotated[ApiKey, Depends(require("read"))]
                            ) -> dict[str, Any]:
        """Every decision recorded on candidates, oldest first (later runs apply them)."""
        decisions = stored_decisions(_engine(request).store)
        return {"decisions": [d.model_dump(exclude_none=True) for d in decisions]}

    @app.get("/v1/discover/{run_id}", tags=["discovery"])
    def discovery_result(run_id: str, request: Request,
                         _: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
        """A run's state; when done, its candidates (``members`` list statement ids and the
        sources' response ids), outlier rate before joining and unclustered rate after."""
        engine = _engine(request)
        # the job first: the worker stores the run and marks the job done in one transaction,
        # so a job read as done is always followed by a run read that finds it
        job = get_job(engine.store, run_id)
        run = discovery_run(engine.store, run_id)
        if run is not None:
            return {"id": run.id, "state": "done", "created_at": run.created_at.isoformat(),
                    "taxonomy_version_id": run.taxonomy_version_id, "params": run.params,
                    **run.result}
        if job is None or job.kind != DISCOVER:
            raise ApiError(404, "THM631", f"no discovery run {run_id}")
        return {"id": job.id, "state": job.state, "job": _job(job)}

    @app.post("/v1/discover/{run_id}/decisions", tags=["discovery"], status_code=201)
    def decide(run_id: str, body: DecisionRequest, request: Request, response: Response,
               key: Annotated[ApiKey, Depends(require("admin"))]) -> dict[str, Any]:
        """Record a decision on a candidate of a finished run. ``promote`` also stores the next
        taxonomy version with the candidate as a new area (its quotes as examples) and starts
        the re-tag that makes it active (``Location``: the job)."""
        engine = _engine(request)
        run = discovery_run(engine.store, run_id)
        if run is None:
            raise ApiError(404, "THM631", f"no finished discovery run {run_id}")
        ids = {str(c["id"]): c for c in run.result.get("candidates", [])}
        for needed in (body.candidate, body.into):
            if needed is not None and needed not in ids:
                raise ApiError(422, "THM632", f"run {run_id} has no candidate '{needed}' "
                               f"(ids: {sorted(ids)[:20]})")
        try:
            decision = Decision(**body.model_dump(exclude={"name", "owner", "by"}),
                                by=body.by or key.name)
        except ValidationError as exc:
            raise ApiError(422, "THM633", str(exc.errors()[0]["msg"])) from None
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
            answer.update(taxonomy_version=version.version, job=_job(job))
        record_decision(engine.store, run_id, decision, version_id)
        return answer

    @app.post("/v1/webhooks", tags=["webhooks"], status_code=201)
    def create_webhook(body: WebhookRequest, request: Request,
                       _: Annotated[ApiKey, Depends(require("admin"))]) -> dict[str, Any]:
        """Route new comments that mention ``theme`` (or any area of ``owner`` in the
        taxonomy), optionally only from one NPS group, to ``url``. The signing secret is in
        this answer only."""
        engine = _engine(request)
        taxonomy = parse_taxonomy(engine.active().yaml)
        areas = {label.id: label.owner for label in taxonomy.taxonomy.areas}
        if body.theme is not None and body.theme not in areas:
            raise ApiError(422, "THM629", f"theme '{body.theme}' is not an area of the active "
                           f"taxonomy ({sorted(areas)})")
        if body.owner is not None and body.owner not in set(areas.values()):
            raise ApiError(422, "THM629", f"no area of the active taxonomy has owner "
                           f"'{body.owner}'")
        subscription, secret = subscribe(engine.store, str(body.url), theme=body.theme,
                                         owner=body.owner, category=body.category)
        return {"id": subscription.id, "url": subscription.url, "theme": subscription.theme,
                "owner": subscription.owner, "category": subscription.category,
                "secret": secret, "signature": "X-Themer-Signature: sha256=HMAC-SHA256(secret, "
                "X-Themer-Timestamp + '.' + body)"}

    @app.get("/v1/webhooks/{subscription_id}/deliveries", tags=["webhooks"])
    def webhook_deliveries(subscription_id: int, request: Request,
                           _: Annotated[ApiKey, Depends(require("admin"))],
                           state: Literal["pending", "delivered", "dead"] | None = None,
                           limit: Annotated[int, Query(ge=1, le=500)] = 100,
                           offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        """Delivery log: state, attempts, last HTTP status and error."""
        rows = _engine(request).store.deliveries(subscription_id, state, limit, offset)
        return {"subscription_id": subscription_id, "deliveries": rows}

    @app.get("/v1/jobs/{job_id}", tags=["jobs"])
    def job_status(job_id: str, request: Request,
                   _: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
        """State, progress (done / total), counts (labels added / removed) and error."""
        job = get_job(_engine(request).store, job_id)
        if job is None:
            raise ApiError(404, "THM627", f"no job {job_id}")
        return _job(job)

    @app.post("/v1/jobs/{job_id}/cancel", tags=["jobs"])
    def job_cancel(job_id: str, request: Request,
                   _: Annotated[ApiKey, Depends(require("admin"))]) -> dict[str, Any]:
        """Cancel a queued or running job (a running one stops after its current chunk)."""
        job = cancel_job(_engine(request).store, job_id)
        if job is None:
            raise ApiError(404, "THM627", f"no job {job_id}")
        return _job(job)

    return app


class WebhookRequest(BaseModel):
    url: AnyHttpUrl = Field(examples=["https://hooks.example.com/themer/platform"])
    theme: str | None = Field(default=None, max_length=200, examples=["performance"])
    owner: str | None = Field(default=None, max_length=200, examples=["platform"])
    category: Category | None = Field(default=None, examples=["detractor"])


class DiscoverRequest(BaseModel):
    survey_type: str | None = Field(default=None, max_length=100)
    date_from: date | None = None
    date_to: date | None = None
    segment: list[str] = Field(default_factory=list, max_length=20,
                               description="NAME=VALUE filters", examples=[["plan=enterprise"]])
    categories: list[Category] = Field(default_factory=list, max_length=3,
                                       description="Only these NPS groups (default: all).")
    all: bool = Field(default=False, description="Every statement, not only unassigned ones.")
    min_cluster_size: int | None = Field(default=None, ge=2, le=100_000)
    reassign: float = Field(default=0.35, ge=-1.0, le=1.0,
                            description="Cosine to a centroid a statement needs to be in it.")
    previous_run: str | None = Field(default=None, max_length=36,
                                     description="Track ids against this run (default: the "
                                     "latest one).")


class DecisionRequest(BaseModel):
    action: Literal["promote", "merge", "rename", "discard"]
    candidate: str = Field(min_length=1, max_length=64)
    into: str | None = Field(default=None, max_length=64, description="merge: the survivor.")
    label: str | None = Field(default=None, min_length=1, max_length=200,
                              description="rename: the new name.")
    area: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$",
                             description="promote: the new area's id.")
    name: str | None = Field(default=None, max_length=200, description="promote: area name.")
    owner: str | None = Field(default=None, max_length=200, description="promote: team.")
    by: str | None = Field(default=None, max_length=200)


class TaxonomyRequest(BaseModel):
    yaml: str = Field(min_length=10, max_length=1_000_000, description="The taxonomy YAML.")
    author: str | None = Field(default=None, max_length=200)


def _job(job: Job) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {"id": job.id, "kind": job.kind, "state": job.state, "done": job.done,
            "total": job.total, "counts": job.counts, "error": job.error,
            "attempts": job.attempts, "params": job.params, "created_at": when(job.created_at),
            "started_at": when(job.started_at), "finished_at": when(job.finished_at),
            "heartbeat_at": when(job.heartbeat_at)}
