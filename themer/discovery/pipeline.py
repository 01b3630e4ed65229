"""One discovery run, the same for ``themer discover`` and the store's discover job.

Embed the statements (cached), cluster them (:func:`~themer.discovery.cluster.discover`),
carry ids over from an earlier run (:func:`~themer.discovery.cluster.track`) and apply the
analysts' recorded decisions (:func:`~themer.discovery.decisions.apply_decisions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from themer.discovery.cluster import Discovery, area_prototypes, discover, track
from themer.discovery.decisions import Decision, apply_decisions
from themer.nlp.embed import Encoder
from themer.taxonomy import TaxonomyInfo

__all__ = ["DiscoverOptions", "run_discovery"]


@dataclass(frozen=True)
class DiscoverOptions:
    """Clustering options (defaults: the shipped recipe)."""

    min_cluster_size: int | None = None  # None: 0.4% of the distinct statements, 5..100
    min_samples: int | None = None  # None: half the min cluster size
    components: int = 20  # PCA dimensions before HDBSCAN
    reassign: float = 0.35  # cosine to a centroid a statement needs to be in it
    neighbours: int = 10  # smooth each statement towards its k nearest (0: off)
    max_sample: int = 50_000  # cluster at most this many distinct statements


def run_discovery(statements: pd.DataFrame, responses: pd.DataFrame, encoder: Encoder,
                  taxonomy: TaxonomyInfo, options: DiscoverOptions, *,
                  previous: dict[str, Any] | None = None,
                  decisions: Sequence[Decision] = (), nlp: Any | None = None) -> Discovery:
    """Candidates from ``statements`` (response_id, statement_id, statement) among
    ``responses`` (response_id, category: the whole group, for shares and NPS)."""
    chosen = statements.reset_index(drop=True)
    vectors = encoder.encode(chosen["statement"].tolist())
    found = discover(chosen, vectors, responses,
                     area_prototypes=area_prototypes(taxonomy, encoder),
                     min_cluster_size=options.min_cluster_size, min_samples=options.min_samples,
                     n_components=options.components, neighbours=options.neighbours,
                     reassign_threshold=options.reassign, max_sample=options.max_sample,
                     nlp=nlp)
    if previous is not None:
        found = track(found, previous)
    category = dict(zip(responses["response_id"].astype(str),
                        responses["category"].astype(str), strict=True))
    return apply_decisions(found, list(decisions), category, len(responses))
