"""Peak memory of `themer tag` on 200,000 responses, against the same command on 2,000.

    python eval/bench/memory_200k.py [--n 200000]

Both inputs come from examples/generate.py (seeded). The CLI streams responses in chunks
(THEMER_CHUNK_SIZE), writing tag rows as it goes, so peak RSS should barely grow with input size.
Target: peak RSS < 2 GB at 200k. Both runs share one embedding cache, so the big run also shows
how de-duplication by text hash keeps embedding work to the distinct statements. Prints the
peak RSS of each child process (ru_maxrss) and their ratio.
"""

from __future__ import annotations

import argparse
import os
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from themer.nlp.cache import EmbeddingCache

ROOT = Path(__file__).resolve().parents[2]


def peak_rss_of(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of a child process, measured with wait4's rusage."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed")
    return usage.ru_maxrss / 1024, time.perf_counter() - start  # ru_maxrss is KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        env = {**os.environ, "THEMER_CACHE_DIR": str(tmp / "cache"), "HF_HUB_OFFLINE": "1"}
        themer = [sys.executable, "-m", "themer", "tag"]
        results = {}
        for n in (2_000, args.n):
            data = tmp / f"d{n}"
            data.mkdir()
            sys.argv = ["generate.py", str(data), str(n)]
            runpy.run_path(str(ROOT / "examples" / "generate.py"), run_name="__main__")
            out = tmp / f"tags{n}.csv"
            rss, seconds = peak_rss_of(
                [*themer, str(data / "nps_survey.csv"), "-o", str(out)], env)
            rows = sum(1 for _ in out.open(encoding="utf-8")) - 1
            results[n] = rss
            print(f"themer tag, {n:,} responses -> {rows:,} tag rows: peak RSS {rss:,.0f} MB, "
                  f"{seconds:.0f} s")
        with EmbeddingCache(tmp / "cache" / "embeddings") as cache:
            print(f"distinct statements embedded (cache rows): {cache.count():,}")
        ratio = results[args.n] / results[2_000]
        print(f"RESULT peak RSS {results[args.n]:,.0f} MB at {args.n:,} responses "
              f"(target < 2,048 MB); {ratio:.2f}x the 2,000-response run")


if __name__ == "__main__":
    main()
