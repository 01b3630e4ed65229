"""Throughput of the full tagging pipeline vs raw SentenceTransformer.encode, in one run.

    python eval/bench/tag_throughput.py [--n 20000] [--retag 1000000]

1. Tags N distinct real statements (public datasets, each given as a one-statement comment):
   split + embed (cold cache) + classify areas and types + tag rows. Then raw
   ``SentenceTransformer.encode`` (batch 32, its default) on the same texts. Prints both rates and
   the ratio (target >= 0.9). The order alternates which goes first to spread machine noise.
2. Re-tags R cached vectors against a changed taxonomy (an edited area): prototypes rebuilt,
   scores + decisions for areas and types (target <= 10 s), and the time to read R vectors back
   from the on-disk SQLite cache.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
from common import ROOT, public_statements

from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import CachedEncoder, SentenceTransformerEncoder, text_key
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import Tagger
from themer.taxonomy import load_taxonomy, parse_taxonomy


def pipeline_rate(texts: list[str], tmp: Path, splitter: StatementSplitter) -> float:
    taxonomy = load_taxonomy(ROOT / "taxonomy.yaml")
    encoder = SentenceTransformerEncoder()
    responses = pd.DataFrame({"response_id": [f"s{i}" for i in range(len(texts))],
                              "text:comment": texts})
    with EmbeddingCache(tmp / f"cold-{time.time_ns()}") as cache:
        tagger = Tagger.build(taxonomy, CachedEncoder(encoder, cache), splitter)
        start = time.perf_counter()
        rows = sum(len(t) for t in tagger.iter_tags(responses))
        elapsed = time.perf_counter() - start
    print(f"pipeline: {len(texts)} texts -> {rows} tag rows in {elapsed:.1f} s "
          f"= {len(texts) / elapsed:.1f} texts/s")
    return len(texts) / elapsed


def raw_rate(texts: list[str]) -> float:
    model = SentenceTransformerEncoder()._model
    start = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    elapsed = time.perf_counter() - start
    print(f"raw SentenceTransformer.encode: {len(texts)} texts in {elapsed:.1f} s "
          f"= {len(texts) / elapsed:.1f} texts/s")
    return len(texts) / elapsed


def retag(n: int, texts: list[str], tmp: Path, splitter: StatementSplitter) -> None:
    """Realistic re-tag: vectors and the old taxonomy's label texts are already in the cache."""
    encoder = SentenceTransformerEncoder()
    base = CachedEncoder(encoder, None).encode(texts[:2000])
    rng = np.random.default_rng(0)
    vectors = base[rng.integers(0, len(base), n)] + 0.02 * rng.standard_normal(
        (n, base.shape[1])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = [text_key(encoder.model_id, f"statement {i}") for i in range(n)]
    text = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8")
    edited = parse_taxonomy(text.replace("version: 1", "version: 2").replace(
        "      - the search bar is hard to find",
        "      - the search bar is hard to find\n      - searching old threads is impossible"))
    with EmbeddingCache(tmp / "big") as cache:
        for s in range(0, n, 50_000):
            cache.put_many(encoder.model_id, dict(zip(keys[s:s + 50_000], vectors[s:s + 50_000],
                                                      strict=True)))
        cached = CachedEncoder(encoder, cache)
        Tagger.build(parse_taxonomy(text), cached, splitter)  # the old version, already used
        # The streaming re-tag a batch job runs: read a block of cached vectors, decide its
        # tags, move on; one reused buffer, so memory stays flat at any history size.
        start = time.perf_counter()
        tagger = Tagger.build(edited, cached, splitter)
        with_area = 0
        names = [f"statement {i}" for i in range(n)]  # zero-shot scorers do not read them
        for first, block, found in cache.iter_matrix(keys, encoder.dim):
            assert found.all()
            tags = tagger.tag_vectors(block, names[first:first + len(block)])
            with_area += int(tags["area"][0].any(axis=1).sum())
        total = time.perf_counter() - start
        start = time.perf_counter()
        loaded, _ = cache.get_matrix(keys)
        read = time.perf_counter() - start
        start = time.perf_counter()
        tagger.tag_vectors(loaded, names)
        classify = time.perf_counter() - start
    print(f"re-tag {n:,} cached vectors against an edited taxonomy, streamed from the cache "
          f"(read + prototypes + area/type decisions): {total:.2f} s ({with_area:,} got an "
          f"area); target <= 10 s")
    print(f"  for reference, all at once: read {read:.2f} s, decisions {classify:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--retag", type=int, default=1_000_000)
    args = parser.parse_args()
    splitter = StatementSplitter()
    texts = public_statements(max(args.n, 2000), splitter)[: args.n or 2000]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if not args.n:  # --n 0: only the re-tag measurement
            retag(args.retag, texts, tmp, splitter)
            return
        half = len(texts) // 2
        # Two halves, alternating order, so drift in machine load hits both sides alike.
        p1, r1 = pipeline_rate(texts[:half], tmp, splitter), raw_rate(texts[:half])
        r2, p2 = raw_rate(texts[half:]), pipeline_rate(texts[half:], tmp, splitter)
        pipeline, raw = 2 / (1 / p1 + 1 / p2), 2 / (1 / r1 + 1 / r2)
        print(f"RESULT pipeline {pipeline:.1f}/s vs raw encode {raw:.1f}/s: "
              f"ratio {pipeline / raw:.2f} (target >= 0.9)")
        if args.retag:
            retag(args.retag, texts, tmp, splitter)


if __name__ == "__main__":
    main()
