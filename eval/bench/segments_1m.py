"""Segment analysis over 1,000,000 responses x 20 segment columns (issue 5 target: < 30 s).

Baseline measured in the same run: the bare counting the analysis cannot avoid, one
``pd.crosstab`` of segment value x NPS group per column. The ratio printed is
segment_table time / baseline time.

    python eval/bench/segments_1m.py [--n 1000000] [--segments 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from themer.analytics.segments import segment_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    categories = np.array(["promoter", "passive", "detractor"])
    frame = pd.DataFrame({"category": categories[rng.integers(0, 3, args.n)]})
    for s in range(args.segments):
        values = np.array([f"v{k}" for k in range(2 + s % 7)])  # 2..8 values per column
        frame[f"segment:s{s}"] = values[rng.integers(0, len(values), args.n)]
    started = time.perf_counter()
    for s in range(args.segments):
        pd.crosstab(frame[f"segment:s{s}"], frame["category"])
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    table = segment_table(frame)
    elapsed = time.perf_counter() - started
    print(f"segment_table: {args.n:,} responses x {args.segments} segments "
          f"({len(table.rows)} segment values, BH over all): {elapsed:.2f} s (target < 30 s)")
    print(f"baseline (crosstab counts only): {baseline:.2f} s; ratio {elapsed / baseline:.2f}")


if __name__ == "__main__":
    main()
