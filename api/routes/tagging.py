"""Tagging routes: classify comments without storing anything."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter

from api.deps import EngineDep, MetricsDep, ReadKey
from api.errors import ApiError
from api.schemas import ClassifyOut, ClassifyRequest
from themer.errors import Errors

router = APIRouter(tags=["tagging"])


def batch_limit(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise ApiError.of(Errors.THM621, size=size, what=what, limit=limit)


@router.post("/v1/classify", response_model=ClassifyOut)
def classify(body: ClassifyRequest, engine: EngineDep, metrics: MetricsDep, _: ReadKey
             ) -> dict[str, Any]:
    """Tags per statement for 1..N comments; nothing is stored."""
    batch_limit(len(body.comments), engine.settings.max_batch, "comments")
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
    metrics.tag_rows.labels(route="classify").inc(len(tags))
    return {"taxonomy_version": tagger.taxonomy.version, "classifier": tagger.sources,
            "results": results}
