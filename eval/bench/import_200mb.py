"""A 200 MB survey export through `themer import`: time and peak memory, streamed.

Builds a CSV of real public feedback sentences (ids, scores, dates, plan/role segments, two
open-text answers) until it is 200 MB, then runs, each in its own process:

* baseline: ``pandas.read_csv`` of the whole file (what a non-streaming reader holds);
* ``themer import --dry-run`` (read, validate, build store records; nothing written);
* ``themer import --no-wait`` into a fresh SQLite store (one transaction; tagging left queued).

Prints seconds and peak resident memory (VmHWM) of each, and the ratios against the baseline.
Run: python eval/bench/import_200mb.py [--mb 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATASETS, run_child


def build(path: Path, megabytes: int) -> int:
    sentences = pd.read_csv(DATASETS / "app_review_sentences_panichella.csv",
                            dtype=str)["text"].dropna().tolist()
    sentences += pd.read_csv(DATASETS / "semeval16_laptops_train.csv",
                             dtype=str)["text"].dropna().tolist()
    plans, roles = ("free", "pro", "business", "enterprise"), ("admin", "manager", "ic")
    rows = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("response_id,responded_at,score,reason,improve,plan,role\n")
        while handle.tell() < megabytes * 1024 * 1024:
            first = sentences[rows % len(sentences)].replace('"', "'")
            second = sentences[(rows * 7 + 3) % len(sentences)].replace('"', "'")
            handle.write(f'R{rows:08d},2025-{1 + rows % 12:02d}-{1 + rows % 28:02d},'
                         f'{rows % 11},"{first}","{second}",{plans[rows % 4]},'
                         f'{roles[rows % 3]}\n')
            rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        export = Path(scratch) / "export.csv"
        rows = build(export, options.mb)
        env = {**os.environ, "THEMER_DATABASE_URL": f"sqlite:///{scratch}/store.db"}
        print(f"{export.stat().st_size / 1e6:.0f} MB, {rows} rows")
        base_s, base_mib, _ = run_child(["pandas", str(export)], env)
        print(f"baseline pandas.read_csv whole file: {base_s:.1f} s, peak {base_mib:.0f} MiB")
        dry_s, dry_mib, _ = run_child(["import", str(export), "--dry-run"], env)
        print(f"themer import --dry-run: {dry_s:.1f} s, peak {dry_mib:.0f} MiB "
              f"(memory ratio {dry_mib / base_mib:.2f})")
        imp_s, imp_mib, said = run_child(["import", str(export), "--no-wait"], env)
        print(f"themer import into SQLite: {imp_s:.1f} s ({rows / imp_s:.0f} rows/s), peak "
              f"{imp_mib:.0f} MiB (memory ratio {imp_mib / base_mib:.2f}, time ratio "
              f"{imp_s / base_s:.1f})")
        print(next(line for line in said.splitlines() if line.startswith("stored")))


if __name__ == "__main__":
    main()
