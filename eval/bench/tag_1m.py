"""`themer tag` over a million comments in static mode: time and peak memory.

Builds a CSV of --n responses (one public feedback sentence or review each, distinct), runs
`themer tag INPUT -o tags.parquet` in a child process with THEMER_ENCODER=static and a fresh
cache, and prints its wall time and peak resident memory (VmHWM). Baseline, in the same run:
raw `SentenceTransformer.encode` (batch 32) on 1,000 of the texts, projected to --n.

    python eval/bench/tag_1m.py --static models/static-minilm [--n 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.common import DATASETS, run_child


def texts(n: int) -> list[str]:
    pool: list[str] = []
    for name, column in (("app_review_sentences_panichella.csv", "text"),
                         ("semeval16_laptops_train.csv", "text"),
                         ("semeval16_restaurants_train.csv", "text"),
                         ("app_reviews_aurea_areas.csv", "text"),
                         ("app_reviews_maalej.csv", "text")):
        pool += pd.read_csv(DATASETS / name, dtype=str)[column].dropna().tolist()
    pool = list(dict.fromkeys(" ".join(t.split()) for t in pool if t.strip()))
    # distinct texts: pair sentences (the cache would otherwise make repeats free)
    return [pool[i % len(pool)] if i < len(pool) else
            f"{pool[i % len(pool)]} {pool[(i * 7919) % len(pool)]}" for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--static", type=Path, default=Path("models/static-minilm"))
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    comments = texts(args.n)
    from sentence_transformers import SentenceTransformer

    from themer.nlp.embed import default_model_path

    model = SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
    start = time.perf_counter()
    model.encode(comments[:1000], batch_size=32, show_progress_bar=False)
    raw_rate = 1000 / (time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as scratch:
        survey = Path(scratch) / "survey.csv"
        pd.DataFrame({"response_id": [f"r{i}" for i in range(args.n)],
                      "score": [i % 11 for i in range(args.n)],
                      "comment": comments}).to_csv(survey, index=False)
        env = {**os.environ, "THEMER_ENCODER": "static",
               "THEMER_STATIC_MODEL": str(args.static.resolve()),
               "THEMER_CACHE_DIR": f"{scratch}/cache"}
        seconds, peak, output = run_child(["tag", str(survey), "-o",
                                           f"{scratch}/tags.parquet"], env)
        said = next(x for x in output.splitlines() if x.startswith("wrote"))
    print(f"{said}\nthemer tag (static) over {args.n} responses: {seconds:.0f} s "
          f"({args.n / seconds:.0f} responses/s), peak {peak:.0f} MiB")
    print(f"raw MiniLM encode {raw_rate:.0f} texts/s -> {args.n / raw_rate:.0f} s projected for "
          f"{args.n} (ratio {args.n / raw_rate / seconds:.1f}x)")


if __name__ == "__main__":
    main()
