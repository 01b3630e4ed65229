"""What a use case gets from its door: settings, the store, and where notes and progress go."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from themer.config import Settings

if TYPE_CHECKING:
    from themer.nlp.tagger import Tagger
    from themer.store.repository import Store
    from themer.taxonomy import TaxonomyInfo

__all__ = ["Advance", "Context", "Progress", "no_progress"]

Advance = Callable[[int], None]  # "k more items done"
Progress = Callable[[str, int | None], AbstractContextManager[Advance]]


@contextmanager
def no_progress(label: str, total: int | None) -> Iterator[Advance]:
    """A progress display that shows nothing (the API, tests)."""
    yield lambda k: None


def _ignore(message: str) -> None:
    """Notes nobody reads (the API logs nothing per request)."""


@dataclass
class Context:
    """The door's side of a use case. ``notes`` get one-line remarks (which profile and
    columns were read, rows skipped, the tagger used); ``progress(label, total)`` opens a
    progress display. The store is opened from the settings on first use unless the door
    passes its own; ``taggers`` lets the API reuse its loaded taggers."""

    settings: Settings
    notes: Callable[[str], None] = _ignore
    progress: Progress = no_progress
    store: Store | None = None
    taggers: Callable[[TaxonomyInfo, list[Path] | None], Tagger] | None = None

    def open_store(self) -> Store:
        """The store of THEMER_DATABASE_URL (opened, and migrated, once)."""
        if self.store is None:
            from themer.store.repository import Store

            self.store = Store.open(self.settings.store_url())
        return self.store

    def prepare_encoders(self) -> None:
        """Distil the static encoder first if the settings want it and it is not built yet
        (once, offline, about two minutes on two cores), showing progress."""
        if self.settings.encoder not in ("static", "cascade") or \
                not self.settings.static_model_is_default():
            return
        from themer.nlp.static_encoder import is_complete
        from themer.runtime.encoders import static_folder

        if not is_complete(self.settings.static_model_dir()):
            with self.progress("building the static encoder (once, offline)", None):
                static_folder(self.settings, self.notes)

    def tagger(self, taxonomy: TaxonomyInfo, heads: list[Path] | None) -> Tagger:
        """A tagger for ``taxonomy`` (trained heads from ``heads`` or the models folder)."""
        if self.taggers is not None:
            return self.taggers(taxonomy, heads)
        from themer.runtime.encoders import build_tagger

        self.prepare_encoders()
        tagger = build_tagger(self.settings, taxonomy, heads)
        described = f"areas: {tagger.sources['area']}; types: {tagger.sources['type']}"
        if tagger.fallback is not None:
            described = (f"cascade: static ({described}), unsure within {tagger.band} of a "
                         f"cut -> MiniLM (areas: {tagger.fallback.sources['area']}; types: "
                         f"{tagger.fallback.sources['type']})")
        self.notes(f"taxonomy {taxonomy.source} v{taxonomy.version} "
                   f"({taxonomy.content_hash[:8]}); encoder {self.settings.encoder}; "
                   f"{described}")
        return tagger
