"""Readable names for clusters: class-based TF-IDF over lemmas and noun chunks.

Each cluster is one "document"; a term scores high when it is frequent in that cluster and rare
across the others (BERTopic's c-TF-IDF). Terms are spaCy lemmas of content words (nouns, proper
nouns, verbs, adjectives) and lemmatised noun chunks of two or three words ("dark mode",
"calendar sync", found as adjective/noun runs in the tags); stop words and product-generic
words ("app", "please", "work") are dropped.
Without a spaCy pipeline the terms are plain lower-cased words and word pairs (tests, fallbacks).

Only the members nearest each centre are read (the caller picks them: see
``themer.discovery.cluster.LABEL_BUDGET``): the tagger and parser run at about 600
statements/s on two
cores, and the statements at the centre are the ones that say what the cluster is about.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from themer.nlp.split import packaged_pipeline_path

__all__ = ["GENERIC_WORDS", "cluster_terms", "label_clusters", "load_label_nlp"]

GENERIC_WORDS = frozenset({
    "app", "product", "tool", "software", "use", "using", "used", "really", "just", "like",
    "would", "great", "good", "bad", "love", "please", "add", "need", "want", "thing", "things",
    "also", "much", "lot", "get", "make", "way", "time", "team", "work", "works", "working",
    "be", "have", "do", "go", "thank", "thanks", "able", "well", "nice", "awesome", "best",
})
_SKIP = ENGLISH_STOP_WORDS | GENERIC_WORDS
_CONTENT = frozenset({"NOUN", "PROPN", "VERB", "ADJ"})
_NOUNS = frozenset({"NOUN", "PROPN"})
_CHUNK = _NOUNS | {"ADJ"}
_WORD = re.compile(r"(?u)\b[a-zA-Z][a-zA-Z]+\b")


def load_label_nlp() -> Any:
    """The packaged en_core_web_sm with tagger and lemmatizer (no parser, no NER), or None.

    Noun chunks come from the part-of-speech tags (:func:`_chunks`), not the parser: the parser
    adds ~15% to the time and the chunks a label needs ("dark mode", "calendar sync") are plain
    adjective/noun runs.
    """
    import spacy

    path = packaged_pipeline_path()
    return spacy.load(path, exclude=["parser", "ner", "senter"]) if path is not None else None


def _keep(word: str) -> bool:
    return len(word) > 1 and word.isalpha() and word not in _SKIP


def _terms_plain(text: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    kept = [w for w in words if _keep(w)]
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words) if _keep(a) and _keep(b)]
    return kept + pairs


def _chunks(doc: Any) -> list[list[Any]]:
    """Noun chunks from tags: maximal runs of adjectives and nouns that end in a noun."""
    runs: list[list[Any]] = []
    current: list[Any] = []
    for token in [*doc, None]:
        if token is not None and token.pos_ in _CHUNK:
            current.append(token)
            continue
        while current and current[-1].pos_ not in _NOUNS:
            current.pop()
        if current:
            runs.append(current)
        current = []
    return runs


def _terms_spacy(doc: Any) -> list[str]:
    terms = [t.lemma_.lower() for t in doc if t.pos_ in _CONTENT and _keep(t.lemma_.lower())]
    for chunk in _chunks(doc):
        words = [t.lemma_.lower() for t in chunk if _keep(t.lemma_.lower())]
        if 2 <= len(words) <= 3 and len(set(words)) == len(words):
            terms.append(" ".join(words))
    return terms


def cluster_terms(texts: Sequence[Sequence[str]], nlp: Any | None) -> list[Counter[str]]:
    """Term counts per cluster (each a list of statements)."""
    flat = [t for block in texts for t in block]
    if nlp is not None:
        per_text = [_terms_spacy(d) for d in nlp.pipe(flat, batch_size=256)]
    else:
        per_text = [_terms_plain(t) for t in flat]
    out, start = [], 0
    for block in texts:
        counts: Counter[str] = Counter()
        for terms in per_text[start:start + len(block)]:
            counts.update(set(terms))  # document frequency inside the cluster
        out.append(counts)
        start += len(block)
    return out


def label_clusters(texts: Sequence[Sequence[str]], nlp: Any | None = None,
                   reserved: Sequence[str] = ()) -> list[tuple[str, list[str]]]:
    """(label, keywords) per cluster; labels are unique and avoid ``reserved`` names.

    The label is the noun chunk whose words score highest, joined with the best term that shares
    no word with it, avoiding words already used by an earlier label when there is a choice.
    """
    if not texts:
        return []
    counts = cluster_terms(texts, nlp)
    vocabulary = sorted(set().union(*counts))
    if not vocabulary:
        return [(f"cluster {i + 1}", []) for i in range(len(texts))]
    index = {term: j for j, term in enumerate(vocabulary)}
    matrix = np.zeros((len(texts), len(vocabulary)))
    for i, c in enumerate(counts):
        for term, n in c.items():
            matrix[i, index[term]] = n
    tf = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    idf = np.log(1 + (matrix.sum() / len(texts)) / np.maximum(matrix.sum(axis=0), 1))
    score = tf * idf
    terms = np.asarray(vocabulary, dtype=object)
    used_words: set[str] = set()
    used_labels = {r.lower() for r in reserved}
    out = []
    for i in range(len(texts)):
        order = np.lexsort((terms.astype(str), -score[i]))  # ties alphabetical: deterministic
        ranked = [str(terms[j]) for j in order[:30] if score[i, j] > 0]
        keywords = ranked[:8]
        picked: list[str] = []
        # the chunk made of the cluster's strongest words ("pdf export" over "large report")
        chunks = sorted((t for t in ranked if " " in t),
                        key=lambda t: (-sum(score[i, index[w]] for w in t.split()
                                            if w in index) - score[i, index[t]], t))
        for term in chunks[:1] + ranked:
            words = set(term.split())
            if words & used_words and len(ranked) > 2:
                continue
            if not any(words & set(p.split()) for p in picked):
                picked.append(term)
            if len(picked) == 2:
                break
        picked = picked or ranked[:2]
        label = " / ".join(picked) if picked else f"cluster {i + 1}"
        if label.lower() in used_labels:
            label = f"{label} ({i + 1})"
        used_words.update(w for p in picked for w in p.split())
        used_labels.add(label.lower())
        out.append((label, keywords))
    return out
