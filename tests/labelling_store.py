"""A small tagged store for the labelling-loop tests, and a simulated analyst.

``build_store`` stores a few dozen responses and tags them with the real model through the
same cache the use cases read (``cache_dir/embeddings``), so re-training embeds nothing.
``analyst`` labels a statement the way a person would, by its words.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import CachedEncoder, Encoder
from themer.nlp.split import StatementSplitter
from themer.store.pipeline import tag_stored, tagger_for_version
from themer.store.repository import ResponseIn, Store
from themer.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
COMMENTS = [
    "Search never finds the invoice I need.", "The search results are useless.",
    "Finding old projects with search is hopeless. Please add filters to search.",
    "Billing charged us twice this month.", "The invoice total was wrong again.",
    "Pricing is too expensive for a small team.", "The app is painfully slow to load.",
    "Dashboards take forever to open.", "Everything lags when the project grows.",
    "The mobile app crashes on Android.", "I cannot log in on the iPhone app.",
    "The mobile app is missing an offline mode.", "Support answered within minutes.",
    "Support never replied to my ticket.", "The support team was friendly and fast.",
    "Please add a Salesforce integration.", "The Jira sync is broken.",
    "We need a Slack integration.", "Reports are great for our board.",
    "Exporting reports to Excel fails.", "I want scheduled reports by email.",
    "Onboarding was smooth.", "Setting up the workspace took weeks.",
    "The getting started guide was confusing.", "Search is slow and the mobile app crashes.",
    "Love the dashboards. Billing is confusing.", "Support solved my billing issue quickly.",
    "The Android app is slow.", "Please add search to the mobile app.",
    "The invoice page crashes every time.", "Reports load slowly.",
    "Integrations with our CRM keep failing.", "Great product, the onboarding call helped.",
    "The export to CSV is broken.", "I expected reports to be included in our plan.",
    "Notifications arrive hours late.",
]
AREA_WORDS = [("search", r"search|finding"), ("billing", r"billing|invoice|pricing|charged|plan"),
              ("performance", r"slow|lags|forever|late"),
              ("mobile", r"mobile|android|iphone"), ("support", r"support|ticket"),
              ("integrations", r"integration|jira|slack|salesforce|crm|sync"),
              ("reporting", r"report|dashboard"), ("onboarding", r"onboarding|setting up|started"),
              ("data_import_export", r"export|csv"), ("notifications", r"notification")]
TYPE_WORDS = [("feature_request", r"please add|we need|i want|missing"),
              ("bug", r"crash|broken|fails|failing|wrong|twice|cannot"),
              ("misaligned_expectation", r"expected"),
              ("praise", r"great|smooth|friendly|love|minutes|quickly|helped")]


def analyst(text: str) -> dict[str, Any]:
    """The areas and type a person would give this statement (by its words)."""
    lower = text.lower()
    areas = [area for area, words in AREA_WORDS if re.search(words, lower)]
    kind = next((t for t, words in TYPE_WORDS if re.search(words, lower)), "ux_friction")
    return {"areas": areas, "type": kind}


def build_store(url: str, cache_dir: Path, models_dir: Path, encoder: Encoder,
                splitter: StatementSplitter) -> Store:
    """A store holding COMMENTS as responses, tagged zero-shot with the example taxonomy."""
    store = Store.open(url)
    info = load_taxonomy(ROOT / "taxonomy.yaml")
    store.activate_taxonomy(info, (ROOT / "taxonomy.yaml").read_text(encoding="utf-8"))
    created = store.ingest([ResponseIn(id=f"r{i}", score=(i * 7) % 11,
                                       comments={"reason": text})
                            for i, text in enumerate(COMMENTS)])
    version = store.active_taxonomy()
    assert version is not None
    cached = CachedEncoder(encoder, EmbeddingCache(cache_dir / "embeddings"))
    tagger = tagger_for_version(version, cached, models_dir=models_dir, splitter=splitter)
    tag_stored(store, tagger, version.id, [r.id for r in created])
    return store
