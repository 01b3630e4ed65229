"""Batch tagging on Ray Data: the same pipeline, spread over an actor pool (one machine or a
cluster).

``RayTagger.iter_tags`` has the single-process ``Tagger.iter_tags`` contract: chunks of
``chunk_size`` responses go through ``map_batches`` to a pool of actors, each of which builds
the tagger (loads the encoder) once, from the same settings and taxonomy; the blocks come back
in input order (``preserve_order``) with the single-process column types, so the written file is
the same byte for byte. Point ``address`` at a running cluster (``ray start --head`` on one
machine, ``ray start --address HEAD:6379`` on the others) to scale out; without it Ray starts
locally. Each node keeps its own embedding cache (``THEMER_CACHE_DIR``).

``RayRanges`` re-tags the store (``themer retag --engine ray``): the job's remaining responses
are cut into ranges of store ids; each actor opens the store and builds the version's tagger
once, then re-tags range after range itself (reads the stored statements, writes the tags:
``themer.store.jobs.retag_range``) and returns only counts, so no statement or tag crosses the
driver. The driver records the ranges in order as they finish (the job's cursor), so a stopped
job resumes after the last one recorded. On a cluster the store must be one every node reaches
(PostgreSQL); SQLite serves one machine.

Ray comes with ``pip install 'themer[ray]'``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from themer.config import Settings
from themer.errors import Errors
from themer.schema import TAG_COLUMNS, TAG_TYPES
from themer.store.jobs import ChunkResult, retag_range
from themer.store.models import TaxonomyVersion
from themer.taxonomy import TaxonomyInfo

__all__ = ["RayRanges", "RayTagger", "start_ray"]


def start_ray(address: str | None, num_cpus: int | None = None) -> Any:
    """The ``ray`` module, connected to ``address`` (or a local Ray started now)."""
    try:
        import ray
    except ImportError:
        raise Errors.THM330.error() from None
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else num_cpus,
                 include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    return ray


def _ordered_context(ray: Any) -> None:
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # output in input order
    context.enable_progress_bars = False


class _TagBatch:
    """A Ray actor: builds the tagger once, then tags batch after batch of responses."""

    def __init__(self, settings: dict[str, Any], taxonomy: TaxonomyInfo,
                 heads: list[str]) -> None:
        from themer.runtime.encoders import build_tagger

        self.tagger = build_tagger(Settings(**settings), taxonomy, [Path(h) for h in heads])

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return self.tagger.tag_statements(self.tagger.split(batch))


class RayTagger:
    """Drop-in for ``Tagger.iter_tags`` that runs on Ray Data (see module docstring)."""

    def __init__(self, settings: Settings, taxonomy: TaxonomyInfo, heads: list[Path] | None,
                 *, address: str | None = None, actors: int = 2,
                 num_cpus: int | None = None) -> None:
        self._ray = start_ray(address, num_cpus)
        self.settings, self.taxonomy = settings, taxonomy
        self.heads = [str(h) for h in heads or []]
        self.actors = actors

    def iter_tags(self, responses: pd.DataFrame, chunk_size: int = 10_000,
                  progress: Callable[[int], Any] | None = None) -> Iterator[pd.DataFrame]:
        data = self._ray.data
        _ordered_context(self._ray)
        blocks = [responses.iloc[i:i + chunk_size] for i in range(0, len(responses), chunk_size)]
        if not blocks:
            return
        dataset = data.from_pandas(blocks).map_batches(
            _TagBatch, batch_size=None, batch_format="pandas",
            compute=data.ActorPoolStrategy(size=self.actors),
            fn_constructor_kwargs={"settings": self.settings.model_dump(),
                                   "taxonomy": self.taxonomy, "heads": self.heads})
        for tags, block in zip(dataset.iter_batches(batch_size=None, batch_format="pandas"),
                               blocks, strict=False):
            yield tags.reset_index(drop=True).astype(TAG_TYPES)[TAG_COLUMNS]
            if progress is not None:
                progress(len(block))

    def shutdown(self) -> None:
        self._ray.shutdown()


class _RetagRanges:
    """A Ray actor: opens the store and builds the version's tagger once, then re-tags range
    after range, reading statements and writing tags itself; returns the counts."""

    def __init__(self, settings: dict[str, Any], version_id: int,
                 previous_id: int | None) -> None:
        from themer.runtime.encoders import store_tagger_for
        from themer.store.repository import Store

        chosen = Settings(**settings)
        self.store = Store.open(chosen.store_url())
        version = self.store.taxonomy_version(version_id)
        if version is None:
            raise Errors.THM195.error(version_id=version_id)
        self.tagger = store_tagger_for(chosen)(version)
        self.version_id, self.previous_id = version_id, previous_id

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        rows = []
        for first, last in zip(batch["first"].tolist(), batch["last"].tolist(), strict=True):
            result = retag_range(self.store, self.tagger, self.version_id, int(first),
                                 int(last), self.previous_id)
            rows.append({"first": result.first, "last": result.last,
                         "responses": result.responses, "saved": result.saved,
                         "added": json.dumps(result.added), "removed": json.dumps(result.removed)})
        return pd.DataFrame(rows)


class RayRanges:
    """A ``themer.store.jobs.RangeRunner`` on Ray Data (see module docstring)."""

    def __init__(self, settings: Settings, *, address: str | None = None, actors: int = 2,
                 range_size: int = 5_000, num_cpus: int | None = None) -> None:
        self._ray = start_ray(address, num_cpus)
        self.settings, self.actors, self.range_size = settings, actors, range_size

    def __call__(self, version: TaxonomyVersion, previous_id: int | None,
                 ranges: list[tuple[int, int]]) -> Iterator[ChunkResult]:
        if not ranges:
            return
        data = self._ray.data
        _ordered_context(self._ray)
        # one block per range, so the pool spreads the ranges over its actors
        blocks = [pd.DataFrame({"first": [first], "last": [last]}) for first, last in ranges]
        dataset = data.from_pandas(blocks).map_batches(
            _RetagRanges, batch_size=None, batch_format="pandas",
            compute=data.ActorPoolStrategy(size=self.actors),
            fn_constructor_kwargs={"settings": self.settings.model_dump(),
                                   "version_id": version.id, "previous_id": previous_id})
        for batch in dataset.iter_batches(batch_size=None, batch_format="pandas"):
            for row in batch.to_dict(orient="records"):
                yield ChunkResult(int(row["first"]), int(row["last"]), int(row["responses"]),
                                  int(row["saved"]), Counter(json.loads(row["added"])),
                                  Counter(json.loads(row["removed"])))

    def shutdown(self) -> None:
        self._ray.shutdown()
