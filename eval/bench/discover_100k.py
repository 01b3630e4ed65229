"""Discovery at scale: 100,000 distinct statements on this machine, time and peak memory.

    python eval/bench/discover_100k.py [--n 100000] [--base 5000] [--max-sample 50000]

Embedding 100k statements takes ~10 minutes here, so the input is built from ``--base`` real
public statements (embedded once, from the cache after the first run): each copy is the real
vector plus Gaussian noise (cosine ~0.9 to its source), with a distinct text. The run uses
themer's defaults: HDBSCAN fits a sample of ``--max-sample`` statements and
``hdbscan.approximate_predict`` places the rest.

The baseline, measured in the same run, is the encoder itself: seconds to embed 500 new
statements, scaled to ``--n``. The ratio says what discovery adds to the embedding it needs.
Peak memory is the RSS high-water mark of this process after the inputs are built, so it
includes the input vectors (n x 384 float32 = 154 MB at 100k).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.accuracy import cached_encoder
from eval.bench.common import public_statements, rss_mib
from themer.discovery.cluster import discover
from themer.discovery.labels import load_label_nlp
from themer.nlp.split import StatementSplitter


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--base", type=int, default=5_000)
    parser.add_argument("--max-sample", type=int, default=50_000)
    args = parser.parse_args()
    encoder = cached_encoder()
    base = public_statements(args.base + 500, StatementSplitter())
    vectors = encoder.encode(base[:args.base])
    nonce = uuid.uuid4().hex[:8]  # new texts every run: never in the cache
    probe = [f"{t} (probe {nonce} {i})" for i, t in enumerate(base[args.base:])]
    start = time.perf_counter()
    encoder.encode(probe)
    embed_seconds = (time.perf_counter() - start) * args.n / len(probe)
    rng = np.random.default_rng(0)
    source = np.arange(args.n) % args.base
    noisy = vectors[source] + rng.normal(scale=0.025, size=(args.n, vectors.shape[1]))
    noisy = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    texts = [f"{base[s]} (copy {i})" for i, s in enumerate(source)]
    ids = [str(i) for i in range(args.n)]
    statements = pd.DataFrame({"response_id": ids, "statement_id": ids, "statement": texts})
    responses = pd.DataFrame({"response_id": ids, "category": np.array(
        ["promoter", "passive", "detractor"])[rng.integers(0, 3, args.n)]})
    nlp = load_label_nlp()
    before = rss_mib()
    start = time.perf_counter()
    found = discover(statements, noisy, responses, nlp=nlp, max_sample=args.max_sample)
    seconds = time.perf_counter() - start
    peak = rss_mib()
    print(f"n={args.n} distinct statements (from {args.base} real ones), sample "
          f"{found.clustered_sample}: {len(found.candidates)} candidates, outliers "
          f"{found.outlier_rate:.1%} before joining, {found.unclustered_rate:.1%} after")
    print(f"discover: {seconds:.1f} s; peak RSS {peak:.0f} MiB ({before:.0f} MiB before the "
          f"call, +{peak - before:.0f} MiB)")
    print(f"baseline: embedding {args.n} statements ~{embed_seconds:.0f} s "
          f"(500 timed); discover / embedding = {seconds / embed_seconds:.3f}")


if __name__ == "__main__":
    main()
