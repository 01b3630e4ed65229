"""Batch tagging on Ray Data: the same pipeline, spread over an actor pool (one machine or a
cluster).

``RayTagger.iter_tags`` has the single-process ``Tagger.iter_tags`` contract: chunks of
``chunk_size`` responses go through ``map_batches`` to a pool of actors, each of which builds
the tagger (loads the encoder) once, from the same settings and taxonomy; the blocks come back
in input order (``preserve_order``) with the single-process column types, so the written file is
the same byte for byte. Point ``address`` at a running cluster (``ray start --head`` on one
machine, ``ray start --address HEAD:6379`` on the others) to scale out; without it Ray starts
locally. Each node keeps its own embedding cache (``THEMER_CACHE_DIR``).

Ray comes with ``pip install 'themer[ray]'``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from themer.config import Settings
from themer.errors import ModelError
from themer.tagger import TAG_COLUMNS, TAG_TYPES
from themer.taxonomy import TaxonomyInfo

__all__ = ["RayTagger"]


class _TagBatch:
    """A Ray actor: builds the tagger once, then tags batch after batch of responses."""

    def __init__(self, settings: dict[str, Any], taxonomy: TaxonomyInfo,
                 heads: list[str]) -> None:
        from themer.encoders import build_tagger

        self.tagger = build_tagger(Settings(**settings), taxonomy, [Path(h) for h in heads])

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return self.tagger.tag_statements(self.tagger.split(batch))


class RayTagger:
    """Drop-in for ``Tagger.iter_tags`` that runs on Ray Data (see module docstring)."""

    def __init__(self, settings: Settings, taxonomy: TaxonomyInfo, heads: list[Path] | None,
                 *, address: str | None = None, actors: int = 2,
                 num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ModelError("--engine ray needs Ray: pip install 'themer[ray]'.",
                             code="THM330") from None
        self._ray = ray
        self.settings, self.taxonomy = settings, taxonomy
        self.heads = [str(h) for h in heads or []]
        self.actors = actors
        if not ray.is_initialized():
            ray.init(address=address, num_cpus=None if address else num_cpus,
                     include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)

    def iter_tags(self, responses: pd.DataFrame, chunk_size: int = 10_000,
                  progress: Callable[[int], Any] | None = None) -> Iterator[pd.DataFrame]:
        data = self._ray.data
        context = data.DataContext.get_current()
        context.execution_options.preserve_order = True  # output in input order
        context.enable_progress_bars = False
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
