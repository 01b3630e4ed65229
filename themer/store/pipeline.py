"""Tagging against the store: tag stored responses and save their statements and tags."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from themer.nlp.embed import CachedEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import Tagger, find_heads
from themer.schema import TAG_COLUMNS
from themer.store.models import TaxonomyVersion
from themer.store.repository import Store
from themer.store.webhooks import enqueue_deliveries
from themer.taxonomy import parse_taxonomy

__all__ = ["head_versions", "split_and_save", "tag_stored", "tagger_for_version"]


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


def head_versions(tagger: Tagger) -> dict[str, str]:
    """What decided each label kind ("zero-shot" or the head), as stored on every tag row."""
    return {str(kind): source for kind, source in tagger.sources.items()}


def split_and_save(store: Store, tagger: Tagger, taxonomy_version_id: int,
                   response_ids: Sequence[int]) -> pd.DataFrame:
    """Split these stored responses, tag their statements and store both; returns the tag
    rows saved (none when the comments are blank)."""
    statements = tagger.split(store.responses_for_tagging(list(response_ids)))
    if statements.empty:
        return pd.DataFrame(columns=TAG_COLUMNS)
    tags = tagger.tag_statements(statements)
    store.save_tags(tags, taxonomy_version_id, head_versions(tagger))
    return tags


def tag_stored(store: Store, tagger: Tagger, taxonomy_version_id: int,
               response_ids: Sequence[int], chunk_size: int = 1_000) -> int:
    """Tag these stored responses with ``tagger``; returns the number of tag rows saved."""
    saved = 0
    ids = list(response_ids)
    version = store.taxonomy_version(taxonomy_version_id)
    for start in range(0, len(ids), chunk_size):
        saved += len(split_and_save(store, tagger, taxonomy_version_id,
                                    ids[start:start + chunk_size]))
    if version is not None:  # new comments go to the teams that subscribed to their themes
        enqueue_deliveries(store, version, ids)
    return saved
