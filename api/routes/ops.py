"""Operations routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from api.deps import EngineDep, MetricsDep, ReadKey
from api.schemas import Health, Readiness
from themer.store.db import ping
from themer.store.jobs import job_counts

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "Model not loaded yet."}})
def readyz(engine: EngineDep) -> JSONResponse:
    """The store answers and the model is loaded (503 until both)."""
    ping(engine.store.engine)
    ready = engine.model_loaded
    return JSONResponse({"store": "ok", "model": "loaded" if ready else "not loaded"},
                        status_code=200 if ready else 503)


def metrics_body(engine: EngineDep, metrics: MetricsDep) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    for state, count in job_counts(engine.store).items():
        metrics.jobs.labels(state=state).set(count)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


open_router = APIRouter(tags=["ops"])


@open_router.get("/metrics")
def metrics_open(engine: EngineDep, metrics: MetricsDep) -> Response:
    """Prometheus metrics (open: THEMER_METRICS_PUBLIC=true)."""
    return metrics_body(engine, metrics)


keyed_router = APIRouter(tags=["ops"])


@keyed_router.get("/metrics")
def metrics_keyed(engine: EngineDep, metrics: MetricsDep, _: ReadKey) -> Response:
    """Prometheus metrics: HTTP latency and counts, tag rows, ingests, jobs by state."""
    return metrics_body(engine, metrics)
