"""MiniLM with dynamically quantised int8 Linear layers (THEMER_QUANTIZE=int8) against fp32.

For every labelled public set (eval/bench/accuracy.py SETS): the cosine between each text's
fp32 and int8 vector, and macro-F1 of the shipped head recipe (TF-IDF words + 0.5 x vector,
calibrated, F1-optimal cuts; `fast_encoder.calibrated`) on themer's CV folds, one head per
encoder. Throughput in the same run on --n distinct public statements, no cache: themer's fp32
encoder (the baseline) and the int8 one.

    python eval/bench/int8.py [--n 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.accuracy import SETS, load_labelled
from eval.bench.common import public_statements
from eval.bench.fast_encoder import calibrated
from themer.config import Settings
from themer.evaluation.crossval import cv_folds
from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import CachedEncoder, SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    settings = Settings()
    cache = EmbeddingCache(settings.cache_dir / "embeddings")
    fp32 = SentenceTransformerEncoder(settings.model or None)
    int8 = SentenceTransformerEncoder(settings.model or None, quantize="int8")
    texts = public_statements(args.n, StatementSplitter(splitter=settings.splitter))
    rates = {}
    for name, encoder in (("fp32", fp32), ("int8", int8), ("fp32 again", fp32),
                          ("int8 again", int8)):
        start = time.perf_counter()
        encoder.encode(texts)
        rates[name] = len(texts) / (time.perf_counter() - start)
    best32, best8 = max(rates["fp32"], rates["fp32 again"]), max(rates["int8"],
                                                                 rates["int8 again"])
    print(f"encode {args.n} distinct statements, no cache (best of two): fp32 {best32:.0f}/s "
          f"(baseline), int8 {best8:.0f}/s (ratio {best8 / best32:.2f}x)")
    print("| set (texts, labels) | cosine fp32-int8 mean (min) | fp32 macro-F1 | int8 | change |")
    print("|---|---|---|---|---|")
    for spec in SETS:
        data = load_labelled(spec.name)
        folds = cv_folds(data.gold, 5)
        X32 = CachedEncoder(fp32, cache).encode(data.texts)
        X8 = CachedEncoder(int8, cache).encode(data.texts)
        cosine = (X32 * X8).sum(axis=1)
        words = np.asarray(data.texts, dtype=object)
        scores = []
        for X in (X32, X8):
            proba, cuts = calibrated(data.gold, folds, X, words)
            scores.append(f1_score(data.gold, proba >= cuts, average="macro", zero_division=0))
        print(f"| {spec.name} ({len(data.texts)}, {data.gold.shape[1]}) | {cosine.mean():.4f} "
              f"({cosine.min():.4f}) | {scores[0]:.3f} | {scores[1]:.3f} | "
              f"{100 * (scores[1] - scores[0]):+.1f} pts |", flush=True)


if __name__ == "__main__":
    main()
