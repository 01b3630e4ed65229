"""Which encoder the settings ask for (THEMER_ENCODER): minilm, static, or cascade.

In cascade mode the static encoder tags every statement and MiniLM re-tags the ones the static
tagger is unsure of (``Tagger.fallback``); the cache keys carry each encoder's model id, so
vectors of different encoders never mix.
"""

from __future__ import annotations

from themer.cache import EmbeddingCache
from themer.config import Settings
from themer.embed import CachedEncoder, Encoder, SentenceTransformerEncoder

__all__ = ["cached", "fallback_encoder", "primary_encoder"]


def _minilm(settings: Settings) -> Encoder:
    return SentenceTransformerEncoder(settings.model or None, device=settings.device,
                                      batch_tokens=settings.batch_tokens)


def primary_encoder(settings: Settings) -> Encoder:
    """The encoder every statement goes through."""
    if settings.encoder in ("static", "cascade"):
        from themer.static_encoder import StaticEncoder

        return StaticEncoder(settings.static_model)
    return _minilm(settings)


def fallback_encoder(settings: Settings) -> Encoder | None:
    """The encoder for the statements the primary one is unsure of (cascade only)."""
    return _minilm(settings) if settings.encoder == "cascade" else None


def cached(settings: Settings, encoder: Encoder) -> CachedEncoder:
    return CachedEncoder(encoder, EmbeddingCache(settings.cache_dir / "embeddings"))
