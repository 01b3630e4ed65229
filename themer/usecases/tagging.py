"""Tagging use cases: tag an export into a file (or resumable shards), train a head,
measure tags against gold labels, and measure how tags drift between taxonomies or heads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from themer.errors import Errors
from themer.taxonomy import LabelKind
from themer.usecases.context import Context
from themer.usecases.inputs import Inputs, load_dataset, resolve_taxonomy, run_tags

__all__ = ["EvalRequest", "TagRequest", "TrainRequest", "drift", "evaluate", "tag", "train"]

LABEL_KINDS: dict[str, LabelKind] = {"areas": "area", "types": "type", "area": "area",
                                     "type": "type"}


def label_kind(value: str) -> LabelKind:
    if value not in LABEL_KINDS:
        raise Errors.THM119.error(kind=value)
    return LABEL_KINDS[value]


@dataclass(frozen=True)
class TagRequest:
    inputs: Inputs
    output: Path
    engine: str = "local"  # local, or ray (a Ray Data actor pool)
    ray_address: str | None = None
    ray_actors: int = 2
    shards: bool = False  # output is a folder of one Parquet shard per chunk (resumable)


def check_engine(engine: str) -> None:
    if engine not in ("local", "ray"):
        raise Errors.THM179.error(engine=engine)


def tag(ctx: Context, request: TagRequest) -> dict[str, Any]:
    """Tag every statement: one row per (statement, tag); 'unassigned' when no tag of a kind."""
    from themer.outputs.tag_files import check_tag_path, write_tags

    check_engine(request.engine)
    if not request.shards:
        check_tag_path(request.output)
    inputs = request.inputs
    data = load_dataset(ctx, inputs, one_group=False) if inputs.path is not None else None
    if data is None:
        raise Errors.THM184.error(action="tagging")
    info = resolve_taxonomy(ctx, inputs.taxonomy)
    runner: Any
    if request.engine == "ray":
        from themer.runtime.ray_engine import RayTagger

        runner = RayTagger(ctx.settings, info, inputs.heads(), address=request.ray_address,
                           actors=request.ray_actors)
        ctx.notes(f"ray: {request.ray_actors} actor(s) at {request.ray_address or 'a local Ray'}"
                  f"; encoder {ctx.settings.encoder}")
    else:
        runner = ctx.tagger(info, inputs.heads())
    responses = data.responses
    if request.shards:
        return _shards(ctx, runner, responses, request, info)
    count = write_tags(request.output, lambda sink: run_tags(ctx, runner, responses, sink))
    return {"tag_rows": count, "responses": len(responses), "output": str(request.output)}


def _shards(ctx: Context, runner: Any, responses: pd.DataFrame, request: TagRequest,
            info: Any) -> dict[str, Any]:
    from themer.outputs.shards import file_sha256, missing_shards, tag_into_shards

    settings = ctx.settings
    assert request.inputs.path is not None
    identity = {"input_sha256": file_sha256(request.inputs.path), "rows": len(responses),
                "taxonomy_hash": info.content_hash, "encoder": settings.encoder,
                "model": settings.model or "packaged MiniLM",
                "static_model": str(settings.static_model_dir()), "chunk_size": settings.chunk_size}
    n_chunks = -(-len(responses) // settings.chunk_size)
    todo = missing_shards(request.output, identity, n_chunks)
    if len(todo) < n_chunks:
        ctx.notes(f"{n_chunks - len(todo)} of {n_chunks} shard(s) already written; tagging "
                  f"the other {len(todo)}")
    tag_into_shards(lambda chosen, sink: run_tags(ctx, runner, chosen, sink), responses,
                    request.output, todo, settings.chunk_size)
    return {"shards": n_chunks, "written": len(todo), "output": str(request.output)}


@dataclass(frozen=True)
class TrainRequest:
    labelled: Path
    output: Path
    text_col: str
    label_col: str
    label_kind: str
    labels_sep: str = ";"
    taxonomy: Path | None = None
    encoding: str = "utf-8-sig"
    threshold: float | None = None
    normalize_labels: bool = False
    score_col: str | None = None  # also measure the error rates per NPS group
    scale: str = "nps"


def train(ctx: Context, request: TrainRequest) -> dict[str, Any]:
    """Fit a calibrated head on frozen embeddings + the words; arrays + JSON under output."""
    from themer.ingest import read_table
    from themer.nlp.training import train_head
    from themer.runtime.encoders import cached_pair

    kind = label_kind(request.label_kind)
    frame = read_table(request.labelled, encoding=request.encoding)
    tax = resolve_taxonomy(ctx, request.taxonomy)
    encoder = cached_pair(ctx.settings)[0]
    with ctx.progress("embedding training texts", len(frame)) as advance:
        return train_head(frame, text_col=request.text_col, label_col=request.label_col,
                          labels_sep=request.labels_sep, kind=kind, taxonomy=tax,
                          encoder=encoder, output=request.output,
                          source=str(request.labelled), threshold=request.threshold,
                          normalize_labels=request.normalize_labels, progress=advance,
                          score_col=request.score_col, scale=request.scale)


@dataclass(frozen=True)
class EvalRequest:
    data: Path
    text_col: str
    label_col: str
    label_kind: str
    labels_sep: str | None = None
    taxonomy: Path | None = None
    head: Path | None = None
    cv: int | None = None
    split: bool = False
    score_col: str | None = None
    baselines: bool = False
    normalize_labels: bool = False
    scale: str = "nps"
    encoding: str = "utf-8-sig"
    id_col: str | None = None


def evaluate(ctx: Context, request: EvalRequest) -> dict[str, Any]:
    """Tags against gold labels: zero-shot (default), a trained head, or K-fold heads."""
    from themer.evaluation.harness import evaluate_table
    from themer.ingest import read_table
    from themer.nlp.split import StatementSplitter
    from themer.runtime.encoders import cached_pair

    kind = label_kind(request.label_kind)
    if request.head is not None and request.cv is not None:
        raise Errors.THM126.error()
    frame = read_table(request.data, encoding=request.encoding)
    if request.id_col is not None:
        if request.id_col not in frame.columns:
            raise Errors.THM185.error(source=request.data, column=request.id_col)
        repeated = frame[request.id_col].astype(str).duplicated()
        if repeated.any():  # a repeated id would count one text's labels twice
            row = int(repeated.to_numpy().argmax())
            raise Errors.THM186.error(source=request.data, row=row + 2, column=request.id_col,
                                      value=frame[request.id_col].iloc[row])
    splitter = StatementSplitter(splitter=ctx.settings.splitter) if request.split else None
    return evaluate_table(
        frame, text_col=request.text_col, label_col=request.label_col,
        labels_sep=request.labels_sep, kind=kind,
        taxonomy=resolve_taxonomy(ctx, request.taxonomy), encoder=cached_pair(ctx.settings)[0],
        source=str(request.data), head_dir=request.head, cv=request.cv,
        score_col=request.score_col, scale=request.scale, baselines=request.baselines,
        splitter=splitter, normalize_labels=request.normalize_labels)


def drift(ctx: Context, inputs: Inputs, before: tuple[Path | None, list[Path] | None],
          after: tuple[Path | None, list[Path] | None]) -> dict[str, Any]:
    """Share of statements whose tags change between two (taxonomy, heads) taggings."""
    from themer.evaluation.compare import tag_drift
    from themer.usecases.inputs import tag_frame

    data = load_dataset(ctx, inputs, one_group=False)
    taggings = []
    for tax_path, heads in (before, after):
        # both taggings share the embedding cache: the second only re-scores vectors
        tagger = ctx.tagger(resolve_taxonomy(ctx, tax_path), heads)
        taggings.append(tag_frame(ctx, tagger, data.responses))
    return tag_drift(*taggings)
