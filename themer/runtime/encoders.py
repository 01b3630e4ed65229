"""Which encoder the settings ask for (THEMER_ENCODER): minilm, static, or cascade.

In cascade mode the static encoder tags every statement and MiniLM re-tags the ones the static
tagger is unsure of (``Tagger.fallback``); the cache keys carry each encoder's model id, so
vectors of different encoders never mix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from themer.config import Settings
from themer.errors import Errors
from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import CachedEncoder, Encoder, SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import Tagger, find_heads
from themer.store.models import TaxonomyVersion
from themer.store.pipeline import tagger_for_version
from themer.taxonomy import LabelKind, TaxonomyInfo

__all__ = ["build_tagger", "cached", "cached_pair", "fallback_encoder", "primary_encoder",
           "static_folder", "store_tagger_for"]


def _minilm(settings: Settings) -> Encoder:
    return SentenceTransformerEncoder(settings.model or None, device=settings.device,
                                      batch_tokens=settings.batch_tokens,
                                      quantize=settings.quantize)


def static_folder(settings: Settings, notes: Callable[[str], None] | None = None) -> Path:
    """The static encoder's folder; the default one (in the cache folder) is distilled from
    the packaged MiniLM on first use, offline, and reused afterwards. A folder the settings
    name must exist."""
    from themer.nlp.static_encoder import ensure_static_model

    folder = settings.static_model_dir()
    if settings.static_model_is_default():
        ensure_static_model(folder, source=Path(settings.model) if settings.model else None,
                            progress=notes)
    return folder


def primary_encoder(settings: Settings) -> Encoder:
    """The encoder every statement goes through."""
    if settings.encoder in ("static", "cascade"):
        from themer.nlp.static_encoder import StaticEncoder

        return StaticEncoder(static_folder(settings))
    return _minilm(settings)


def fallback_encoder(settings: Settings) -> Encoder | None:
    """The encoder for the statements the primary one is unsure of (cascade only)."""
    return _minilm(settings) if settings.encoder == "cascade" else None


def cached(settings: Settings, encoder: Encoder) -> CachedEncoder:
    return CachedEncoder(encoder, EmbeddingCache(settings.cache_dir / "embeddings"))


def cached_pair(settings: Settings, base: Encoder | None = None,
                fallback_base: Encoder | None = None
                ) -> tuple[CachedEncoder, CachedEncoder | None]:
    """The primary encoder and (cascade only) the fallback, each behind the cache; built from
    the settings unless already loaded (``base``: the API loads its encoders once)."""
    if base is None:
        base, fallback_base = primary_encoder(settings), fallback_encoder(settings)
    return (cached(settings, base),
            cached(settings, fallback_base) if fallback_base is not None else None)


def _heads_for(settings: Settings, taxonomy: TaxonomyInfo, encoder: CachedEncoder,
               explicit: dict[str, dict[LabelKind, Path]]) -> dict[LabelKind, Path]:
    """Head folders given for this encoder, else heads found in models/ for it."""
    return {**find_heads(settings.models_dir, taxonomy, encoder.model_id),
            **explicit.get(encoder.model_id, {})}


def build_tagger(settings: Settings, taxonomy: TaxonomyInfo,
                 heads: list[Path] | None = None) -> Tagger:
    """The tagger the settings describe: encoder mode, heads (given or found), cascade."""
    encoder, fallback = cached_pair(settings)
    explicit: dict[str, dict[LabelKind, Path]] = {}
    for folder in heads or []:
        meta_path = folder / "head.json"
        if not meta_path.is_file():
            raise Errors.THM116.error(folder=folder)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        # a cascade takes heads of both encoders; otherwise a mismatch is reported on load
        model_id = (meta.get("embedding_model_id") if fallback is not None
                    else encoder.model_id)
        explicit.setdefault(str(model_id), {})[meta.get("label_kind")] = folder
    splitter = StatementSplitter(splitter=settings.splitter)
    tagger = Tagger.build(taxonomy, encoder, splitter,
                          heads=_heads_for(settings, taxonomy, encoder, explicit))
    if fallback is not None:
        tagger.fallback = Tagger.build(taxonomy, fallback, splitter,
                                       heads=_heads_for(settings, taxonomy, fallback, explicit))
        tagger.band = settings.cascade_band
    return tagger


def store_tagger_for(settings: Settings) -> Callable[[TaxonomyVersion], Tagger]:
    """Taggers for stored taxonomy versions (the job worker's), sharing one encoder (and, in
    cascade mode, one fallback encoder)."""
    encoder, fallback = cached_pair(settings)

    def tagger_for(version: TaxonomyVersion) -> Tagger:
        return tagger_for_version(version, encoder, models_dir=settings.models_dir,
                                  splitter=StatementSplitter(splitter=settings.splitter),
                                  fallback=fallback, band=settings.cascade_band)

    return tagger_for
