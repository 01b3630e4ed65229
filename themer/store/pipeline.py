"""Tagging against the store: tag stored responses and save their statements and tags."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from themer.embed import CachedEncoder
from themer.segment import StatementSplitter
from themer.store.models import TaxonomyVersion
from themer.store.repository import Store
from themer.store.webhooks import enqueue_deliveries
from themer.tagger import Tagger, find_heads
from themer.taxonomy import parse_taxonomy

__all__ = ["tag_stored", "tagger_for_version"]


def tagger_for_version(version: TaxonomyVersion, encoder: CachedEncoder, *, models_dir: Path,
                       splitter: StatementSplitter, fallback: CachedEncoder | None = None,
                       band: float = 0.05) -> Tagger:
    """The tagger of a stored taxonomy version: zero-shot, or the trained heads in
    ``models_dir`` made for that taxonomy content and encoder. With ``fallback`` (cascade
    mode), statements within ``band`` of a cut are re-tagged with that encoder."""
    taxonomy = parse_taxonomy(version.yaml, f"taxonomy v{version.version}")

    def build(chosen: CachedEncoder) -> Tagger:
        return Tagger.build(taxonomy, chosen, splitter,
                            heads=find_heads(models_dir, taxonomy, chosen.model_id))

    tagger = build(encoder)
    if fallback is not None:
        tagger.fallback, tagger.band = build(fallback), band
    return tagger


def tag_stored(store: Store, tagger: Tagger, taxonomy_version_id: int,
               response_ids: Sequence[int], chunk_size: int = 1_000) -> int:
    """Tag these stored responses with ``tagger``; returns the number of tag rows saved."""
    saved = 0
    ids = list(response_ids)
    heads = {str(kind): source for kind, source in tagger.sources.items()}
    version = store.taxonomy_version(taxonomy_version_id)
    for start in range(0, len(ids), chunk_size):
        frame = store.responses_for_tagging(ids[start:start + chunk_size])
        statements = tagger.split(frame)
        if statements.empty:
            continue
        tags = tagger.tag_statements(statements)
        saved += store.save_tags(tags, taxonomy_version_id, heads)
    if version is not None:  # new comments go to the teams that subscribed to their themes
        enqueue_deliveries(store, version, ids)
    return saved
