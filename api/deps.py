"""What the routes depend on: the engine (store, encoders, taggers), the API-key checks as
``Annotated`` aliases (read < write < admin), and the use-case context of a request."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from api.errors import ApiError
from api.limits import RateLimiter
from themer.config import Settings
from themer.errors import Errors
from themer.nlp.embed import Encoder
from themer.nlp.tagger import Tagger
from themer.store.models import ApiKey, TaxonomyVersion
from themer.store.repository import Scope, Store, scope_allows
from themer.taxonomy import TaxonomyInfo
from themer.usecases.context import Context

__all__ = ["AdminKey", "Engine", "EngineDep", "Metrics", "ReadKey", "WriteKey", "require"]


class Engine:
    """What the routes share: the store, the encoder (loaded once, in the background) and a
    tagger per taxonomy version. The active version is read from the store on every request,
    so a re-tag job that finishes switches the API over without a restart."""

    def __init__(self, settings: Settings, store: Store, *, taxonomy: TaxonomyInfo,
                 taxonomy_text: str) -> None:
        self.settings = settings
        self.store = store
        if store.active_taxonomy() is None:  # an empty store starts with THEMER_TAXONOMY;
            # later edits go through PUT /v1/taxonomy or `themer retag` (a re-tag job each)
            store.activate_taxonomy(taxonomy, taxonomy_text, author="themer serve")
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self._base: Encoder | None = None
        self._fallback: Encoder | None = None  # cascade mode: MiniLM for unsure statements
        self._taggers: dict[tuple[int, str], Tagger] = {}
        self._lock = threading.Lock()
        # One tagging at a time per cache object: the encoder's cache is not thread-safe, and
        # on 2 cores two forward passes at once are no faster than one after the other.
        self.tagging = threading.Lock()

    @property
    def model_loaded(self) -> bool:
        return self._base is not None

    def load_model(self) -> None:
        from themer.runtime.encoders import fallback_encoder, primary_encoder

        with self._lock:  # one model load, even under concurrent first requests
            if self._base is None:  # THEMER_ENCODER: minilm, static or cascade
                self._fallback = fallback_encoder(self.settings)
                self._base = primary_encoder(self.settings)

    def tagger_for(self, version: TaxonomyVersion, user: str = "api") -> Tagger:
        """The tagger of a stored taxonomy version; ``user`` gets its own cache connection."""
        from themer.nlp.split import StatementSplitter
        from themer.runtime.encoders import cached_pair
        from themer.store.pipeline import tagger_for_version

        self.load_model()
        with self._lock:
            key = (version.id, user)
            if key not in self._taggers:
                assert self._base is not None
                encoder, fallback = cached_pair(self.settings, self._base, self._fallback)
                self._taggers[key] = tagger_for_version(
                    version, encoder, models_dir=self.settings.models_dir,
                    splitter=StatementSplitter(splitter=self.settings.splitter),
                    fallback=fallback, band=self.settings.cascade_band)
            return self._taggers[key]

    def forget_taggers(self, version_id: int) -> None:
        """Drop the cached taggers of a taxonomy version (its heads changed: rebuilt on use)."""
        with self._lock:
            for key in [key for key in self._taggers if key[0] == version_id]:
                del self._taggers[key]

    def active(self) -> TaxonomyVersion:
        version = self.store.active_taxonomy()
        if version is None:
            raise ApiError.of(Errors.THM625)
        return version

    def tagger(self) -> Tagger:
        return self.tagger_for(self.active())

    def context(self) -> Context:
        """The use-case context of a request: this engine's store and taggers, no notes."""
        return Context(self.settings, store=self.store, taggers=self._taggers_for_analyses)

    def _taggers_for_analyses(self, taxonomy: TaxonomyInfo, heads: list[Path] | None
                              ) -> Tagger:
        return self.tagger()  # the API analyses read stored tags; this serves the rest


@dataclass
class Metrics:
    """The app's own Prometheus collectors (a registry per app: two apps in one process)."""

    registry: Any
    tag_rows: Any
    ingested: Any
    jobs: Any


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


EngineDep = Annotated[Engine, Depends(get_engine)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def require(scope: Scope) -> Callable[..., ApiKey]:
    """Dependency: a valid key (401 otherwise) with at least ``scope`` (403 otherwise)."""

    def check(engine: EngineDep,
              x_api_key: Annotated[str | None, Header()] = None,
              authorization: Annotated[str | None, Header()] = None) -> ApiKey:
        presented = x_api_key or (authorization[7:].strip() if authorization and
                                  authorization.lower().startswith("bearer ") else None)
        if not presented:
            raise ApiError.of(Errors.THM610, headers={"WWW-Authenticate": "Bearer"})
        key = engine.store.find_key(presented)
        if key is None:
            raise ApiError.of(Errors.THM611, headers={"WWW-Authenticate": "Bearer"})
        if not scope_allows(key.scope, scope):
            raise ApiError.of(Errors.THM612, scope=key.scope, needed=scope)
        wait = engine.limiter.take(key.id)
        if wait:
            raise ApiError.of(Errors.THM613, headers={"Retry-After": str(max(1, round(wait)))})
        return key

    return check


ReadKey = Annotated[ApiKey, Depends(require("read"))]
WriteKey = Annotated[ApiKey, Depends(require("write"))]
AdminKey = Annotated[ApiKey, Depends(require("admin"))]
