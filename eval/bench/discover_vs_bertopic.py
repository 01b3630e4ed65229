"""Theme discovery against BERTopic on labelled public sets, same embeddings, one run.

The labels are hidden from the clustering and used only to score it: NMI, ARI and V-measure
against the gold label (outliers count as one more cluster, as BERTopic users see them), purity
of the clustered texts, the outlier rate, wall time and peak memory (RSS of a fresh process per
method; the RSS after imports is printed too, so the increment is visible).

Sets (single-label texts only, so a gold partition exists): AUREA app-review areas, SemEval-16
restaurant aspect categories (train + test), SemEval-16 laptop aspect entities (the ENTITY part
of ENTITY#ATTRIBUTE; train + test).

Methods:
  themer          themer.discovery.cluster.discover with its defaults (PCA 20, HDBSCAN with the
                  size-based min_cluster_size, outliers joined at cosine >= 0.5, spaCy labels)
  themer-tuned    themer with min_cluster_size picked from the same grid as BERTopic's, the
                  same oracle way
  themer-umap     the same with UMAP (5 dims, 15 neighbours, cosine, seed 0) instead of PCA
  bertopic        BERTopic() defaults, fed the same embeddings (UMAP unseeded, HDBSCAN 10)
  bertopic-tuned  BERTopic with HDBSCAN min_cluster_size picked from {5,10,15,25,50,100} by the
                  best NMI against the gold labels (an oracle tuning, to BERTopic's advantage)
  bertopic-tuned+reduce  the tuned run followed by BERTopic's reduce_outliers (embeddings)

Each method also runs a second time on shuffled input; "repeat ARI" is the agreement of the two
partitions (1.0 = the same clusters). UMAP's numba code is compiled in a warm-up before timing.

    pip install bertopic==0.17.4   # benchmark environment only; not a themer dependency
    python eval/bench/discover_vs_bertopic.py [--only restaurants] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.common import DATASETS, rss_mib

SETS = {
    "aurea": (["app_reviews_aurea_areas.csv"], "labels", None),
    "restaurants": (["semeval16_restaurants_train.csv", "semeval16_restaurants_test.csv"],
                    "categories", None),
    "laptops": (["semeval16_laptops_train.csv", "semeval16_laptops_test.csv"], "categories",
                "#"),
}
METHODS = ["themer", "themer-tuned", "themer-umap", "bertopic", "bertopic-tuned",
           "bertopic-tuned+reduce"]
GRID = [5, 10, 15, 25, 50, 100]


def load_set(name: str) -> tuple[list[str], list[str]]:
    files, column, entity_sep = SETS[name]
    frame = pd.concat([pd.read_csv(DATASETS / f, dtype=str, keep_default_na=False)
                       for f in files], ignore_index=True)
    labels = frame[column].str.split(";")
    if entity_sep:
        labels = labels.map(lambda ls: sorted({x.split(entity_sep)[0] for x in ls if x}))
    else:
        labels = labels.map(lambda ls: sorted({x for x in ls if x}))
    single = labels.map(len) == 1
    frame = frame[single].assign(gold=labels[single].map(lambda ls: ls[0]))
    frame = frame.drop_duplicates("text")  # a text has one place in a partition
    return frame["text"].tolist(), frame["gold"].tolist()


def scores(gold: list[str], labels: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

    frame = pd.DataFrame({"gold": gold, "cluster": labels})
    clustered = frame[frame["cluster"] != -1]
    majority = clustered.groupby("cluster")["gold"].agg(lambda g: g.value_counts().iloc[0])
    return {"nmi": normalized_mutual_info_score(gold, labels),
            "ari": adjusted_rand_score(gold, labels),
            "v_measure": v_measure_score(gold, labels),
            "purity": float(majority.sum() / max(len(clustered), 1)),
            "clusters": len(set(labels.tolist()) - {-1}),
            "outliers": float(np.mean(labels == -1))}


def _umap_warmup() -> None:
    from umap import UMAP

    UMAP(n_components=5, n_neighbors=15, min_dist=0.0, metric="cosine").fit_transform(
        np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32))


def _themer(texts: list[str], vectors: np.ndarray, umap: bool, min_cluster_size: int | None
            ) -> tuple[np.ndarray, float, float]:
    from themer.discovery.cluster import discover
    from themer.discovery.labels import load_label_nlp

    reducer = None
    if umap:
        from umap import UMAP

        _umap_warmup()

        def reducer(unit: np.ndarray) -> np.ndarray:
            return UMAP(n_components=5, n_neighbors=15, min_dist=0.0, metric="cosine",
                        random_state=0).fit_transform(unit)

    nlp = load_label_nlp()
    ids = [str(i) for i in range(len(texts))]
    statements = pd.DataFrame({"response_id": ids, "statement_id": ids, "statement": texts})
    responses = pd.DataFrame({"response_id": ids, "category": "passive"})
    start = time.perf_counter()
    found = discover(statements, vectors, responses, nlp=nlp, reducer=reducer,
                     min_cluster_size=min_cluster_size)
    seconds = time.perf_counter() - start
    labels = np.full(len(texts), -1)
    for k, candidate in enumerate(found.candidates):
        labels[[int(m["statement_id"]) for m in candidate.members]] = k
    return labels, seconds, found.outlier_rate


def _bertopic(texts: list[str], vectors: np.ndarray, min_cluster_size: int | None,
              reduce: bool) -> tuple[np.ndarray, float]:
    from bertopic import BERTopic
    from hdbscan import HDBSCAN

    _umap_warmup()
    kwargs: dict[str, Any] = {}
    if min_cluster_size is not None:  # BERTopic's own HDBSCAN defaults, one size changed
        kwargs["hdbscan_model"] = HDBSCAN(min_cluster_size=min_cluster_size,
                                          metric="euclidean", cluster_selection_method="eom",
                                          prediction_data=True)
    start = time.perf_counter()
    model = BERTopic(**kwargs)
    topics, _ = model.fit_transform(texts, embeddings=vectors)
    if reduce:
        topics = model.reduce_outliers(texts, topics, strategy="embeddings",
                                       embeddings=vectors)
    seconds = time.perf_counter() - start
    return np.asarray(topics), seconds


def worker(args: argparse.Namespace) -> None:
    """One method on one (possibly shuffled) set, in its own process: labels, time, memory."""
    data = np.load(args.data, allow_pickle=False)
    vectors, texts = data["vectors"], [str(t) for t in data["texts"]]
    import_rss, before_reassignment = 0.0, None
    if args.worker.startswith("themer"):
        import hdbscan  # noqa: F401

        import themer.discovery.cluster  # noqa: F401
        import_rss = rss_mib()
        labels, seconds, before_reassignment = _themer(texts, vectors,
                                                       args.worker == "themer-umap",
                                                       args.min_cluster_size)
    else:
        import bertopic  # noqa: F401
        import umap  # noqa: F401
        import_rss = rss_mib()
        labels, seconds = _bertopic(texts, vectors, args.min_cluster_size,
                                    reduce=args.worker.endswith("+reduce"))
    Path(args.out).write_text(json.dumps({"labels": labels.tolist(), "seconds": seconds,
                                          "rss_after_imports_mib": import_rss,
                                          "outliers_before_reassignment": before_reassignment,
                                          "peak_rss_mib": rss_mib()}))


def run_method(method: str, texts: list[str], vectors: np.ndarray, folder: Path,
               min_cluster_size: int | None = None, order: np.ndarray | None = None
               ) -> dict[str, Any]:
    order = np.arange(len(texts)) if order is None else order
    data = folder / "data.npz"
    np.savez(data, vectors=vectors[order], texts=np.asarray(texts, dtype=str)[order])
    out = folder / "out.json"
    command = [sys.executable, __file__, "--worker", method, "--data", str(data), "--out",
               str(out)]
    if min_cluster_size is not None:
        command += ["--min-cluster-size", str(min_cluster_size)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    result: dict[str, Any] = json.loads(out.read_text())
    labels = np.empty(len(texts), dtype=np.int64)
    labels[order] = result["labels"]  # back to the original order
    result["labels"] = labels
    return result


def embed(texts: list[str]) -> np.ndarray:
    from eval.bench.accuracy import cached_encoder

    return cached_encoder().encode(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker")
    parser.add_argument("--data")
    parser.add_argument("--out")
    parser.add_argument("--min-cluster-size", type=int)
    parser.add_argument("--only", default=",".join(SETS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--markdown")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    rows = []
    for name in args.only.split(","):
        texts, gold = load_set(name)
        vectors = embed(texts)
        shuffled = np.random.default_rng(1).permutation(len(texts))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            best: dict[str, int] = {}
            for method in args.methods.split(","):
                size = None
                family = method.split("-")[0]
                if "-tuned" in method:
                    if family not in best:  # oracle: the size with the best NMI
                        tried = {k: scores(gold, run_method(f"{family}-tuned", texts, vectors,
                                                            folder, k)["labels"])["nmi"]
                                 for k in GRID}
                        best[family] = max(tried, key=lambda k: tried[k])
                        print(f"{name}: {family} NMI by min_cluster_size "
                              + ", ".join(f"{k}: {v:.3f}" for k, v in tried.items()),
                              flush=True)
                    size = best[family]
                first = run_method(method, texts, vectors, folder, size)
                again = run_method(method, texts, vectors, folder, size, order=shuffled)
                from sklearn.metrics import adjusted_rand_score

                row = {"set": name, "n": len(texts), "gold_labels": len(set(gold)),
                       "method": method + (f" (mcs {size})" if size else ""),
                       **scores(gold, first["labels"]),
                       "hdbscan_outliers": first["outliers_before_reassignment"],
                       "repeat_ari": adjusted_rand_score(first["labels"], again["labels"]),
                       "seconds": first["seconds"], "peak_rss_mib": first["peak_rss_mib"],
                       "rss_after_imports_mib": first["rss_after_imports_mib"]}
                rows.append(row)
                print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()},
                      flush=True)
    table = pd.DataFrame(rows)
    print(table.round(3).to_string(index=False))
    for name, part in table.groupby("set", sort=False):
        ours = part[part["method"] == "themer"].iloc[0]
        for _, other in part[part["method"].str.startswith("bertopic")].iterrows():
            print(f"{name}: themer vs {other['method']}: {other['seconds'] / ours['seconds']:.1f}x "
                  f"faster, NMI {ours['nmi'] - other['nmi']:+.3f}, outliers "
                  f"{ours['outliers']:.1%} vs {other['outliers']:.1%}"
                  + (f" (ratio {ours['outliers'] / other['outliers']:.2f})"
                     if other["outliers"] > 0 else ""))
    if args.markdown:
        shown = table.round(3)
        lines = ["| " + " | ".join(shown.columns) + " |",
                 "|" + "---|" * len(shown.columns)]
        lines += ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |"
                  for row in shown.itertuples(index=False)]
        Path(args.markdown).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
