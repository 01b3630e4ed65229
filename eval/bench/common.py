"""Helpers shared by the benchmarks: where the data lives, and a realistic statement corpus."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("THEMER_DATASETS", ROOT.parent / "shared" / "datasets"))


def public_statements(n: int, splitter: object) -> list[str]:
    """``n`` distinct real feedback statements from the public sets (reviews split first).

    Distinct, so that de-duplication gives the pipeline no unfair edge over raw encoding.
    """
    texts: list[str] = []
    for name, column in (("semeval16_laptops_train.csv", "text"),
                         ("semeval16_restaurants_train.csv", "text"),
                         ("app_review_sentences_panichella.csv", "text"),
                         ("github_issues_nlbse24_train.csv", "title"),
                         ("github_issues_nlbse24_test.csv", "title"),
                         ("semeval16_laptops_test.csv", "text"),
                         ("semeval16_restaurants_test.csv", "text")):
        texts += pd.read_csv(DATASETS / name, dtype=str)[column].dropna().tolist()
    for name in ("app_reviews_aurea_areas.csv", "app_reviews_maalej.csv"):
        reviews = pd.read_csv(DATASETS / name, dtype=str)["text"].dropna().tolist()
        for spans in splitter.split_many(reviews):  # type: ignore[attr-defined]
            texts += [s.text for s in spans]
    distinct = list(dict.fromkeys(" ".join(t.split()) for t in texts if len(t.split()) >= 2))
    if len(distinct) < n:
        raise SystemExit(f"only {len(distinct)} distinct statements available, asked for {n}")
    return distinct[:n]


def write_markdown(table: pd.DataFrame, path: Path) -> None:
    """Write a results table as a Markdown table (blank cells for missing values)."""
    text = table.astype(object).where(table.notna(), "").astype(str)
    lines = ["| " + " | ".join(text.columns) + " |", "|" + "---|" * len(text.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in text.itertuples(index=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def rss_mib() -> float:
    """This process's peak resident memory so far, MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# A command in a child process that reports its own peak resident memory (VmHWM: ru_maxrss
# would carry the parent's peak over through fork and exec). "pandas FILE" reads a CSV whole.
_CHILD = """
import re, sys
from pathlib import Path
try:
    if sys.argv[1] == "pandas":
        import pandas as pd
        print(len(pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False)))
    else:
        from themer.cli import app
        app(sys.argv[1:], prog_name="themer", standalone_mode=False)
finally:
    status = Path("/proc/self/status").read_text()
    print("PEAK_KIB", re.search(r"VmHWM:\\s+(\\d+)", status).group(1), file=sys.stderr)
"""


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``themer ARGS`` (or ``pandas FILE``) in a child: (seconds, peak MiB, its output)."""
    import subprocess
    import sys
    import time

    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True,
                          env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stdout[-2000:] + done.stderr[-2000:])
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines()
                if line.startswith("PEAK_KIB")) / 1024
    return seconds, peak, done.stdout + done.stderr
