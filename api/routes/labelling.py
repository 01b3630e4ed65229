"""The labelling loop over HTTP, and the labelling page (``GET /label``).

    GET  /v1/label/next?k=20     the next statements to label (read key)
    POST /v1/labels              store labels, all or none (write key)
    POST /v1/label/train         re-train the heads from the labels, re-tag the store (write)
    GET  /v1/label/status        labels so far, the last round's accuracy (read key)

The page is static (no data in it, no key needed to load it); it asks for a key, keeps it in
the tab's sessionStorage and sends it as X-API-Key with every call above.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, ReadKey, WriteKey
from api.schemas import LabelBatchOut, LabelsRequest, LabelsSavedOut, LabelStatusOut, LabelTrainOut
from themer.usecases.labelling import MAX_K, next_batch, save_labels, status, train_from_labels

router = APIRouter(tags=["labelling"])
PAGE = Path(__file__).resolve().parent.parent / "pages" / "label.html"


@router.get("/label", response_class=HTMLResponse, include_in_schema=False)
def page() -> HTMLResponse:
    """The labelling page: self-contained HTML, styles and script inline."""
    return HTMLResponse(PAGE.read_text(encoding="utf-8"),
                        headers={"Content-Security-Policy": "default-src 'self'; "
                                 "script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                 "img-src 'self' data:"})


@router.get("/v1/label/next", response_model=LabelBatchOut)
def label_next(engine: EngineDep, _: ReadKey,
               k: Annotated[int, Query(ge=1, le=MAX_K, description="How many statements.")
                            ] = 10) -> dict[str, Any]:
    """The next ``k`` statements to label, most informative first, each with its comment,
    the current tags as suggestions and any label already given."""
    with engine.tagging:
        return next_batch(engine.context(), k, taggers=engine.tagger_for)


@router.post("/v1/labels", response_model=LabelsSavedOut)
def post_labels(body: LabelsRequest, engine: EngineDep, key: WriteKey) -> dict[str, Any]:
    """Store labels of the active taxonomy version. Every label is checked first (its
    statement stored, its areas and type in the taxonomy, its version the active one): one
    bad label and none is stored. Relabelling a statement replaces its label."""
    by = body.by or key.name or f"api key {key.prefix}"
    return save_labels(engine.context(), body.labels, by)


@router.post("/v1/label/train", response_model=LabelTrainOut)
def label_train(engine: EngineDep, _: WriteKey) -> dict[str, Any]:
    """Re-train the heads from the labels (cached vectors, seconds), save them in the models
    folder and re-tag the stored statements; the cross-validated accuracy and how many
    statements changed tags."""
    with engine.tagging:
        done = train_from_labels(engine.context(), taggers=engine.tagger_for)
    engine.forget_taggers(int(done["taxonomy_version_id"]))
    return done


@router.get("/v1/label/status", response_model=LabelStatusOut)
def label_status(engine: EngineDep, _: ReadKey) -> dict[str, Any]:
    """Labels of the active taxonomy version and the last training round's accuracy."""
    return status(engine.context())
