"""Theme discovery: cluster the statements no area captured, name the clusters, show the evidence.

Pipeline (deterministic, order-independent):
1. distinct statement texts, sorted by their hash (so shuffled input gives the same run);
2. PCA of the (L2-normalised) embeddings to 50 dimensions, each point replaced by the mean of
   its ``neighbours`` nearest points (:func:`smooth_neighbours`), PCA to ``n_components``,
   re-normalised (all seeded). Measured on three labelled public sets (eval/README.md), this
   gives most of what UMAP gives (NMI 0.33 vs 0.34) at a tenth of its cost; without the
   smoothing, HDBSCAN on PCA output leaves 50-70% outliers or collapses into two clusters;
3. HDBSCAN (``hdbscan`` package, euclidean on unit vectors ~ cosine) with ``min_cluster_size``
   chosen from the data size unless given. Above ``max_sample`` distinct statements, the first
   ``max_sample`` in hash order (a fixed pseudo-random sample) are clustered and the rest placed
   with ``hdbscan.approximate_predict`` (the model's own "transform", outliers included), so
   memory and time stay bounded;
4. one bar in the full embedding space, ``reassign_threshold`` (0.35): an HDBSCAN member
   stays when its cosine to its cluster's centroid reaches it, else it is dropped (smoothing can
   carry a stray statement in); an outlier joins the most similar centroid when that cosine
   reaches it. The report gives the outlier rate before joining (HDBSCAN noise +
   dropped members) and the unclustered rate after; on the public sets: below 15% unclustered
   for a purity loss of 0.01-0.08 (eval/README.md);
5. per candidate: a label from class-based TF-IDF over lemmas and noun chunks
   (:mod:`themer.discovery.labels`), keywords, 3-5 quotes closest to the centre (for cosine the
   medoid and the centroid direction coincide) and not near-duplicates of each other, size, share
   of respondents, NPS with its 95% interval, and the nearest taxonomy areas.

Ids are a hash of the member texts; :func:`track` carries ids over from an earlier run, and
:mod:`themer.discovery.decisions` applies an analyst's promote / merge / rename / discard decisions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import hdbscan
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.decomposition import PCA

from themer.analytics.nps import nps as nps_score
from themer.analytics.nps import nps_ci
from themer.discovery.labels import label_clusters
from themer.errors import Errors
from themer.nlp.embed import Encoder
from themer.taxonomy import TaxonomyInfo

__all__ = ["Candidate", "Clustering", "Discovery", "area_prototypes", "cluster_vectors",
           "discover", "min_cluster_size_for", "respondent_stats", "smooth_neighbours", "track"]

MAX_QUOTES = 5
MIN_QUOTES = 3
# statements read for the names, nearest each centre: spaCy tags ~600/s on two cores, so the
# names cost ~0.5 s at most however many clusters there are (5..40 statements each)
LABEL_BUDGET = 300
Reducer = Callable[[NDArray[np.float32]], NDArray[np.float64]]


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
    """Default: 0.4% of the distinct statements, at least 5, at most 100."""
    return int(min(100, max(5, round(0.004 * n))))


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
    growth: int | None = None  # statements gained since the previous run (tracked ones)
    hint: str = ""  # "looks like a sub-theme of X" when an area is close


@dataclass(frozen=True)
class Discovery:
    n_statements: int
    outlier_rate: float  # HDBSCAN noise share, before reassignment
    unclustered_rate: float  # after reassignment
    min_cluster_size: int
    n_components: int
    candidates: list[Candidate]
    clustered_sample: int = 0  # distinct statements HDBSCAN saw (the rest were predicted)
    noise_rate: float = 0.0  # HDBSCAN's own noise share (before the membership rule)
    n_distinct: int = 0
    dismissed: list[dict[str, Any]] = field(default_factory=list)  # discarded / merged away

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"n_statements": self.n_statements, "n_distinct": self.n_distinct,
                "outlier_rate": self.outlier_rate, "unclustered_rate": self.unclustered_rate,
                "min_cluster_size": self.min_cluster_size, "n_components": self.n_components,
                "clustered_sample": self.clustered_sample, "noise_rate": self.noise_rate,
                "candidates": [asdict(c) for c in self.candidates],
                "dismissed": self.dismissed}


@dataclass(frozen=True)
class Clustering:
    """Cluster labels: HDBSCAN's (``raw``), after the similarity rule (``before`` joining
    outliers) and final (``labels``)."""

    raw: NDArray[np.int64]
    before: NDArray[np.int64]
    labels: NDArray[np.int64]
    clusters: list[int]
    min_cluster_size: int
    n_components: int
    sample: int

    @property
    def outlier_rate(self) -> float:
        """Not in a cluster before outliers are joined (HDBSCAN noise + members below the bar)."""
        return float(np.mean(self.before == -1)) if len(self.before) else 0.0

    @property
    def noise_rate(self) -> float:
        """HDBSCAN's own noise share."""
        return float(np.mean(self.raw == -1)) if len(self.raw) else 0.0

    @property
    def unclustered_rate(self) -> float:
        return float(np.mean(self.labels == -1)) if len(self.labels) else 0.0


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise(matrix: NDArray[Any]) -> NDArray[Any]:
    out: NDArray[Any] = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return out


def smooth_neighbours(points: NDArray[np.float32], sample: int, k: int,
                      block: int = 512) -> NDArray[np.float32]:
    """Each point replaced by the mean of its ``k`` nearest sample points (cosine).

    A denoising step (one step of mean shift on the kNN graph): statements that sit between
    topics move towards the topic they are closest to, so HDBSCAN finds denser, better separated
    clusters. It is what UMAP's neighbour graph buys, at a fraction of the cost. The neighbours
    of every point are searched among the first ``sample`` points only, so a point outside the
    sample is placed the same way the sample was built. Bounded memory: ``block`` rows at a time.
    """
    unit = _normalise(points).astype(np.float32)
    reference = unit[:sample]
    k = min(k, sample)
    out = np.empty_like(points)
    for start in range(0, len(points), block):
        similarity = unit[start:start + block] @ reference.T
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        out[start:start + block] = points[:sample][nearest].mean(axis=1)
    return out


def cluster_vectors(unit: NDArray[np.float32], *, min_cluster_size: int | None = None,
                    min_samples: int | None = None, n_components: int = 20,
                    neighbours: int = 10, reassign_threshold: float = 0.35,
                    max_sample: int = 50_000, seed: int = 0,
                    reducer: Reducer | None = None) -> Clustering:
    """HDBSCAN on reduced, neighbour-smoothed vectors; outliers joined to the nearest centroid.

    ``unit`` must already be in a canonical order (the caller sorts by text hash) for the result
    to be order-independent. ``reducer`` replaces PCA and smoothing (the benchmark plugs UMAP
    in here); ``neighbours=0`` turns smoothing off.
    """
    n = len(unit)
    size = min_cluster_size or min_cluster_size_for(n)
    sample = min(n, max_sample)
    if reducer is not None:
        reduced = _normalise(np.asarray(reducer(unit), dtype=np.float64))
        components = reduced.shape[1]
    else:
        # PCA to 50 first: the neighbour search and the smoothing run on 50 numbers per
        # statement instead of 384, and lose little (the tail is mostly noise)
        wide = int(min(50, unit.shape[1], sample - 1))
        points = PCA(n_components=wide, random_state=seed).fit(unit[:sample]).transform(unit)
        if neighbours > 1:
            # neighbours among at most 25k points: the search is n x reference wide
            # (100k statements: 28 s against 50k, ~14 s against 25k)
            points = smooth_neighbours(points.astype(np.float32), min(sample, 25_000),
                                       neighbours)
        components = int(min(n_components, wide))
        pca = PCA(n_components=components, random_state=seed).fit(points[:sample])
        reduced = _normalise(pca.transform(points).astype(np.float64))
    # min_samples: half the cluster size, at most 10. HDBSCAN's core distances cost grows with
    # it (50k statements: 29 s at 10, 97 s at 25) and NMI on the public sets did not move.
    model = hdbscan.HDBSCAN(min_cluster_size=size,
                            min_samples=min_samples or int(min(10, max(1, size // 2))),
                            metric="euclidean", core_dist_n_jobs=1,
                            prediction_data=sample < n)
    raw = np.full(n, -1, dtype=np.int64)
    raw[:sample] = model.fit_predict(reduced[:sample])
    for start in range(sample, n, 50_000):  # the rest, in bounded blocks
        block = reduced[start:start + 50_000]
        raw[start:start + len(block)] = hdbscan.approximate_predict(model, block)[0]
    clusters = sorted(int(c) for c in set(raw.tolist()) - {-1})
    labels, before = raw.copy(), raw.copy()
    if clusters:
        centroids = _normalise(np.stack([unit[raw == c].mean(axis=0) for c in clusters]))
        for start in range(0, n, 50_000):
            part = slice(start, start + 50_000)
            similarity = unit[part] @ centroids.T
            best = similarity.max(axis=1)
            # one bar for everyone, in the original space: a member stays when its cosine to
            # its cluster's centroid reaches the threshold (smoothing can carry an unrelated
            # statement into a cluster; this takes it out again), an outlier (or a dropped
            # member) joins the most similar centroid when that cosine reaches it.
            members = raw[part] != -1
            own = similarity[members, np.searchsorted(clusters, raw[part][members])]
            labels[part][np.flatnonzero(members)[own < reassign_threshold]] = -1
            before[part] = labels[part]
            joined = (labels[part] == -1) & (best >= reassign_threshold)
            labels[part][joined] = np.asarray(clusters)[similarity.argmax(axis=1)[joined]]
    clusters = [c for c in clusters if np.any(labels == c)]  # all members may fall below
    return Clustering(raw, before, labels, clusters, size, components, sample)


def respondent_stats(response_ids: list[str], category: dict[str, str], total: int
                     ) -> dict[str, Any]:
    """Respondents, share, category mix and NPS with its interval for one candidate."""
    who = sorted(set(response_ids))
    mix = {g: sum(category.get(r) == g for r in who) for g in ("promoter", "passive", "detractor")}
    known = sum(mix.values())
    low = high = nps = None
    if known:
        low, high = nps_ci(mix["promoter"], mix["passive"], mix["detractor"])
        nps = nps_score(mix["promoter"], mix["passive"], mix["detractor"])
    return {"respondents": len(who), "share": len(who) / max(total, 1), "category_mix": mix,
            "nps": nps, "ci_low": low, "ci_high": high}


def discover(statements: pd.DataFrame, vectors: NDArray[np.float32], responses: pd.DataFrame,
             *, area_prototypes: dict[str, NDArray[np.float32]] | None = None,
             min_cluster_size: int | None = None, min_samples: int | None = None,
             n_components: int = 20, neighbours: int = 10,
             reassign_threshold: float = 0.35, seed: int = 0,
             max_sample: int = 50_000, nlp: Any | None = None,
             reducer: Reducer | None = None) -> Discovery:
    """Candidates from ``statements`` (response_id, statement_id, statement) and their vectors.

    ``responses``: response_id + category of the whole survey group (for shares and NPS).
    ``area_prototypes``: area id -> unit vector (the taxonomy's), for "looks like" hints.
    ``nlp``: a spaCy pipeline for lemma / noun-chunk labels (:func:`load_label_nlp`); without
    one, labels come from plain words.
    """
    if len(statements) != len(vectors):
        raise Errors.THM421.error()
    texts = statements["statement"].astype(str).tolist()
    distinct = sorted(set(texts), key=_hash)  # canonical order: shuffling changes nothing
    if len(distinct) < 2:
        raise Errors.THM422.error()
    first_row = {t: i for i, t in reversed(list(enumerate(texts)))}
    unit = _normalise(np.asarray(vectors[[first_row[t] for t in distinct]], dtype=np.float32))
    found = cluster_vectors(unit, min_cluster_size=min_cluster_size, min_samples=min_samples,
                            n_components=n_components, neighbours=neighbours,
                            reassign_threshold=reassign_threshold,
                            max_sample=max_sample, seed=seed, reducer=reducer)
    labels, clusters = found.labels, found.clusters
    cluster_of = dict(zip(distinct, labels.tolist(), strict=True))
    statement_cluster = np.array([cluster_of[t] for t in texts])
    distinct_array = np.asarray(distinct, dtype=object)
    centres, nearest_texts = {}, []
    per_cluster = int(min(40, max(5, LABEL_BUDGET // max(len(clusters), 1))))
    for c in clusters:
        members = unit[labels == c]
        centre = members.mean(axis=0)
        centres[c] = centre / max(float(np.linalg.norm(centre)), 1e-12)
        closest = np.lexsort((distinct_array[labels == c].astype(str), -(members @ centres[c])))
        nearest_texts.append([str(t) for t in distinct_array[labels == c][closest[:per_cluster]]])
    names = label_clusters(nearest_texts, nlp)
    category = dict(zip(responses["response_id"].astype(str),
                        responses["category"].astype(str), strict=True))
    candidates = []
    for (c, (label, keywords)) in zip(clusters, names, strict=True):
        rows = statements[statement_cluster == c]
        near = _nearest(centres[c], area_prototypes or {})
        candidates.append(Candidate(
            id=_candidate_id(distinct_array[labels == c]),
            label=label, keywords=keywords, size=len(rows),
            **respondent_stats(rows["response_id"].astype(str).tolist(), category,
                               len(responses)),
            quotes=_quotes(distinct_array[labels == c], unit[labels == c], centres[c]),
            nearest_areas=near, hint=_hint(near),
            members=[{"response_id": str(r.response_id), "statement_id": str(r.statement_id)}
                     for r in rows.itertuples()]))
    candidates.sort(key=lambda x: (-x.size, x.id))
    return Discovery(len(statements), found.outlier_rate, found.unclustered_rate,
                     found.min_cluster_size, found.n_components, candidates,
                     clustered_sample=found.sample, n_distinct=len(distinct),
                     noise_rate=found.noise_rate)


def _candidate_id(member_texts: NDArray[Any]) -> str:
    return "cand-" + _hash("\n".join(sorted(_hash(str(t)) for t in member_texts)))[:10]


def _hint(nearest: list[dict[str, Any]], at: float = 0.5) -> str:
    if nearest and nearest[0]["similarity"] >= at:
        return f"looks like a sub-theme of {nearest[0]['area']} ({nearest[0]['similarity']:.2f})"
    return ""


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
    candidates = [replace(c, id=matched[i], status="tracked", previous_size=old_size[matched[i]],
                          growth=c.size - old_size[matched[i]])
                  if i in matched else c for i, c in enumerate(current.candidates)]
    return replace(current, candidates=candidates)
