"""Theme discovery: cluster the statements no area captured, name the clusters, show the evidence.

Pipeline (deterministic, order-independent):
1. distinct statement texts, sorted by their hash (so shuffled input gives the same run);
2. PCA of the (L2-normalised) embeddings to ``n_components`` (seeded), re-normalised;
3. HDBSCAN (``hdbscan`` package, euclidean on unit vectors ~ cosine) with ``min_cluster_size``
   chosen from the data size unless given;
4. outliers joined to the nearest cluster centroid (cosine in the full embedding space) when the
   similarity is at least ``reassign_threshold``: the report gives the outlier rate before
   and the unclustered rate after;
5. per candidate: a label from class-based TF-IDF over the words (stop words and
   product-generic words removed; de-duplicated across candidates), keywords, 3-5 quotes
   closest to the centroid and not near-duplicates of each other, size, share of respondents,
   NPS with its 95% interval, and the nearest taxonomy areas by prototype similarity.

Not yet here (issue 7 continues): stable ids across runs, promote/merge/rename, the API job,
sampling beyond memory, the comparison with BERTopic.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

import hdbscan
import numpy as np
import pandas as pd
import yaml
from numpy.typing import NDArray
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from themer.embed import Encoder
from themer.errors import StatsError, TaxonomyError
from themer.stats.nps import nps_ci
from themer.taxonomy import TaxonomyInfo, parse_taxonomy

__all__ = ["Candidate", "Discovery", "area_prototypes", "discover", "min_cluster_size_for",
           "promote", "track"]

GENERIC_WORDS = frozenset({
    "app", "product", "tool", "software", "use", "using", "used", "really", "just", "like",
    "would", "great", "good", "bad", "love", "please", "add", "need", "want", "thing", "things",
    "also", "much", "lot", "get", "make", "way", "time", "team", "work", "works", "working",
})
MAX_QUOTES = 5
MIN_QUOTES = 3


def area_prototypes(taxonomy: TaxonomyInfo, encoder: Encoder) -> dict[str, NDArray[np.float32]]:
    """Area id -> unit mean vector of its description and examples."""
    areas = taxonomy.taxonomy.areas
    vectors = encoder.encode([t for label in areas for t in label.prototype_texts()])
    out, start = {}, 0
    for label in areas:
        block = vectors[start:start + len(label.prototype_texts())].mean(axis=0)
        out[label.id] = (block / max(float(np.linalg.norm(block)), 1e-12)).astype(np.float32)
        start += len(label.prototype_texts())
    return out


def min_cluster_size_for(n: int) -> int:
    """Default: 0.5% of the statements, at least 5, at most 100."""
    return int(min(100, max(5, round(0.005 * n))))


@dataclass(frozen=True)
class Candidate:
    id: str
    label: str
    keywords: list[str]
    size: int  # statements
    respondents: int
    share: float  # of all respondents in the group
    nps: float | None  # None when none of its respondents is in the response table
    ci_low: float | None
    ci_high: float | None
    category_mix: dict[str, int]
    quotes: list[str]
    nearest_areas: list[dict[str, Any]]
    members: list[dict[str, str]] = field(default_factory=list)
    status: str = "new"  # new (an emerging theme) | tracked (matched to a previous run)
    previous_size: int | None = None


@dataclass(frozen=True)
class Discovery:
    n_statements: int
    outlier_rate: float  # HDBSCAN noise share, before reassignment
    unclustered_rate: float  # after reassignment
    min_cluster_size: int
    n_components: int
    candidates: list[Candidate]

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"n_statements": self.n_statements, "outlier_rate": self.outlier_rate,
                "unclustered_rate": self.unclustered_rate,
                "min_cluster_size": self.min_cluster_size, "n_components": self.n_components,
                "candidates": [asdict(c) for c in self.candidates]}


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def discover(statements: pd.DataFrame, vectors: NDArray[np.float32], responses: pd.DataFrame,
             *, area_prototypes: dict[str, NDArray[np.float32]] | None = None,
             min_cluster_size: int | None = None, n_components: int = 20,
             reassign_threshold: float = 0.5, seed: int = 0) -> Discovery:
    """Candidates from ``statements`` (response_id, statement_id, statement) and their vectors.

    ``responses``: response_id + category of the whole survey group (for shares and NPS).
    ``area_prototypes``: area id -> unit vector (the taxonomy's), for "looks like" hints.
    """
    if len(statements) != len(vectors):
        raise StatsError("one vector per statement", code="THM421")
    texts = statements["statement"].astype(str).tolist()
    distinct = sorted(set(texts), key=_hash)  # canonical order: shuffling changes nothing
    if len(distinct) < 2:
        raise StatsError("discovery needs at least two distinct statements", code="THM422")
    first_row = {t: i for i, t in reversed(list(enumerate(texts)))}
    unit = vectors[[first_row[t] for t in distinct]].astype(np.float64)
    unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    size = min_cluster_size or min_cluster_size_for(len(distinct))
    components = int(min(n_components, unit.shape[1], len(distinct) - 1))
    reduced = PCA(n_components=components, random_state=seed).fit_transform(unit)
    reduced /= np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-12)
    labels = hdbscan.HDBSCAN(min_cluster_size=size, min_samples=max(1, size // 2),
                             metric="euclidean", core_dist_n_jobs=1).fit_predict(reduced)
    outlier_rate = float(np.mean(labels == -1))
    clusters = sorted(set(labels) - {-1})
    if clusters:
        centroids = np.stack([unit[labels == c].mean(axis=0) for c in clusters])
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        similarity = unit @ centroids.T
        nearest = similarity.argmax(axis=1)
        joined = (labels == -1) & (similarity.max(axis=1) >= reassign_threshold)
        labels = labels.copy()
        labels[joined] = np.asarray(clusters)[nearest[joined]]
    unclustered_rate = float(np.mean(labels == -1))
    cluster_of = dict(zip(distinct, labels, strict=True))
    statement_cluster = np.array([cluster_of[t] for t in texts])
    names = _labels(distinct, labels, clusters)
    total_respondents = len(responses)
    category = dict(zip(responses["response_id"].astype(str),
                        responses["category"].astype(str), strict=True))
    candidates = []
    for c in clusters:
        rows = statements[statement_cluster == c]
        members_unit = unit[labels == c]
        centre = members_unit.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        who = sorted(set(rows["response_id"].astype(str)))
        mix = {g: sum(category.get(r) == g for r in who)
               for g in ("promoter", "passive", "detractor")}
        known = sum(mix.values())
        low: float | None = None
        high: float | None = None
        nps: float | None = None
        if known:
            low, high = nps_ci(mix["promoter"], mix["passive"], mix["detractor"])
            nps = 100.0 * (mix["promoter"] - mix["detractor"]) / known
        candidates.append(Candidate(
            id="cand-" + _hash("\n".join(sorted(_hash(t) for t in
                                                np.asarray(distinct)[labels == c])))[:10],
            label=names[c][0], keywords=names[c][1], size=len(rows), respondents=len(who),
            share=len(who) / max(total_respondents, 1), nps=nps, ci_low=low, ci_high=high,
            category_mix=mix,
            quotes=_quotes(np.asarray(distinct, dtype=object)[labels == c], members_unit,
                           centre),
            nearest_areas=_nearest(centre, area_prototypes or {}),
            members=[{"response_id": str(r.response_id), "statement_id": str(r.statement_id)}
                     for r in rows.itertuples()]))
    candidates.sort(key=lambda x: (-x.size, x.id))
    return Discovery(len(statements), outlier_rate, unclustered_rate, size, components,
                     candidates)


def _labels(texts: list[str], labels: NDArray[np.int64], clusters: list[int]
            ) -> dict[int, tuple[str, list[str]]]:
    """Class-based TF-IDF: top words of each cluster's text against all clusters'."""
    if not clusters:
        return {}
    documents = [" ".join(np.asarray(texts, dtype=object)[labels == c]) for c in clusters]
    vectorizer = CountVectorizer(stop_words=list(ENGLISH_STOP_WORDS | GENERIC_WORDS),
                                 ngram_range=(1, 2), token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    try:
        counts = vectorizer.fit_transform(documents).toarray().astype(float)
    except ValueError:  # nothing but stop words
        return {c: (f"cluster {i + 1}", []) for i, c in enumerate(clusters)}
    terms = vectorizer.get_feature_names_out()
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    average_words = counts.sum() / len(clusters)
    idf = np.log(1 + average_words / np.maximum(counts.sum(axis=0), 1))
    score = tf * idf
    used: set[str] = set()
    out = {}
    for i, c in enumerate(clusters):
        order = np.lexsort((terms, -score[i]))  # ties broken alphabetically: deterministic
        keywords = [str(terms[j]) for j in order[:12] if score[i, j] > 0
                    and len(set(str(terms[j]).split())) == len(str(terms[j]).split())][:8]
        picked: list[str] = []
        for keyword in keywords:  # two keywords that share no word, not used by another label
            words = set(keyword.split())
            if keyword not in used and not any(words & set(p.split()) for p in picked):
                picked.append(keyword)
            if len(picked) == 2:
                break
        picked = picked or keywords[:2]
        label = " / ".join(picked) if picked else f"cluster {i + 1}"
        if label in used:
            label = f"{label} ({i + 1})"
        used.update(picked)
        used.add(label)
        out[c] = (label, keywords)
    return out


def _quotes(texts: NDArray[Any], unit: NDArray[np.float64], centre: NDArray[np.float64]
            ) -> list[str]:
    """3-5 statements closest to the centre, skipping near-duplicates of chosen ones."""
    order = np.lexsort((texts.astype(str), -(unit @ centre)))
    chosen: list[int] = []
    for i in order:
        if all(float(unit[i] @ unit[j]) < 0.95 for j in chosen):
            chosen.append(int(i))
        if len(chosen) == MAX_QUOTES:
            break
    for i in order:  # a tight cluster: near-duplicates rather than fewer than three quotes
        if len(chosen) >= min(MIN_QUOTES, len(order)):
            break
        if int(i) not in chosen:
            chosen.append(int(i))
    return [str(texts[i]) for i in chosen]


def _nearest(centre: NDArray[np.float64], prototypes: dict[str, NDArray[np.float32]]
             ) -> list[dict[str, Any]]:
    scored = sorted(((float(centre @ (v / max(float(np.linalg.norm(v)), 1e-12))), area)
                     for area, v in prototypes.items()), key=lambda x: (-x[0], x[1]))
    return [{"area": area, "similarity": round(sim, 3)} for sim, area in scored[:2]]


def track(current: Discovery, previous: dict[str, Any], *, min_overlap: float = 0.5
          ) -> Discovery:
    """Give candidates that continue a previous run's candidate its id (stable ids over time).

    ``previous``: an earlier run's ``to_dict()`` (the ``--json`` file). A new candidate continues
    an old one when it holds at least ``min_overlap`` of the old one's member statements; pairs
    are matched greedily by overlap, each old id used once. Unmatched candidates stay ``new``:
    emerging themes, with no previous size.
    """
    old = {c["id"]: {m["statement_id"] for m in c.get("members", [])}
           for c in previous.get("candidates", [])}
    old_size = {c["id"]: int(c.get("size", 0)) for c in previous.get("candidates", [])}
    pairs = []
    for i, candidate in enumerate(current.candidates):
        mine = {m["statement_id"] for m in candidate.members}
        for old_id, members in old.items():
            if members:
                overlap = len(mine & members) / len(members)
                if overlap >= min_overlap:
                    pairs.append((-overlap, old_id, i))
    pairs.sort()
    taken_old: set[str] = set()
    matched: dict[int, str] = {}
    for _, old_id, i in pairs:
        if old_id not in taken_old and i not in matched:
            taken_old.add(old_id)
            matched[i] = old_id
    candidates = [replace(c, id=matched[i], status="tracked", previous_size=old_size[matched[i]])
                  if i in matched else c for i, c in enumerate(current.candidates)]
    return replace(current, candidates=candidates)


def promote(taxonomy_text: str, candidate: dict[str, Any], area_id: str, *,
            name: str | None = None, owner: str | None = None, source: str = "taxonomy"
            ) -> str:
    """The taxonomy YAML with the candidate added as a new area and the version bumped.

    The new area's description comes from the candidate's label and keywords, its examples
    from its quotes. The text is edited in place (comments and layout kept) and the result is
    validated like any taxonomy, so a clash (an id already used) is an error naming the key.
    """
    if "\ntypes:" not in taxonomy_text or not re.search(r"^version:\s*\d+", taxonomy_text,
                                                          flags=re.MULTILINE):
        raise TaxonomyError(f"{source}: expected top-level 'version:' and 'types:' keys to "
                            "edit; add the area by hand.", code="THM206")
    keywords = ", ".join(candidate.get("keywords", [])[:6])
    entry = {"id": area_id, "name": name or str(candidate.get("label", area_id)).title(),
             "description": f"Discovered theme '{candidate.get('label', '')}': {keywords}."[:2000],
             "owner": owner, "parent": None,
             "examples": [str(q) for q in candidate.get("quotes", [])][:10]}
    block = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100)
    indented = "".join(f"  {line}" if line.strip() else line
                       for line in block.splitlines(keepends=True))
    edited = taxonomy_text.replace("\ntypes:", "\n" + indented + "types:", 1)
    edited = re.sub(r"^version:\s*(\d+)", lambda m: f"version: {int(m.group(1)) + 1}", edited,
                    count=1, flags=re.MULTILINE)
    parse_taxonomy(edited, f"{source} + promoted '{area_id}'")
    return edited
