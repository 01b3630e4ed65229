"""The HTTP service: a thin FastAPI layer over :mod:`themer.usecases` and the store.

    themer serve                       # uvicorn on 127.0.0.1:8000, settings from THEMER_*
    create_app(Settings(...))          # in tests

Every route but /healthz and /readyz needs an API key (``X-API-Key`` or ``Authorization:
Bearer``) with the route's scope: read < write < admin. Routes live in ``api/routes`` (one
router per resource), dependencies in ``api/deps.py``, models in ``api/schemas.py``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_fastapi_instrumentator import Instrumentator

from api.deps import Engine, Metrics
from api.errors import install
from api.limits import BodyLimit
from api.routes import (
    analytics,
    discovery,
    ingest,
    jobs,
    labelling,
    ops,
    tagging,
    taxonomy,
    webhooks,
)
from themer import __version__
from themer.config import Settings
from themer.store.jobs import run_worker
from themer.store.repository import Store
from themer.taxonomy import resolve_taxonomy
from themer.usecases.inputs import taxonomy_text

__all__ = ["create_app"]


def _metrics() -> Metrics:
    registry = CollectorRegistry()  # a registry per app: two apps in one process (tests)
    return Metrics(
        registry=registry,
        tag_rows=Counter("themer_tag_rows_total", "Tag rows written or returned", ["route"],
                         registry=registry),
        ingested=Counter("themer_responses_ingested_total", "Responses stored",
                         registry=registry),
        jobs=Gauge("themer_jobs", "Jobs in the store by state", ["state"], registry=registry))


def _engine(settings: Settings) -> Engine:
    # an empty store starts with THEMER_TAXONOMY, ./taxonomy.yaml, else the starter taxonomy
    info, _note = resolve_taxonomy(settings.explicit_taxonomy(), settings.taxonomy)
    return Engine(settings, Store.open(settings.store_url()), taxonomy=info,
                  taxonomy_text=taxonomy_text(info))


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; the store opens, the model loads and the embedded worker starts in its
    lifespan (tests: ``with TestClient(create_app(settings))``)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine = _engine(settings)
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
    app.state.metrics = metrics = _metrics()
    Instrumentator(registry=metrics.registry, excluded_handlers=["/metrics"]).instrument(app)
    app.include_router(ops.router)
    app.include_router(ops.open_router if settings.metrics_public else ops.keyed_router)
    for module in (tagging, ingest, analytics, taxonomy, discovery, webhooks, jobs, labelling):
        app.include_router(module.router)
    return app
