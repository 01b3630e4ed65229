"""kill -9 a worker in the middle of a 100,000-response re-tag, start another, count the tags.

Fills a fresh store (SQLite by default, or --url) with N responses whose comments cycle through
a few real-looking texts (their embeddings are cached after the first chunk, as in a real
re-tag from cached vectors), queues a re-tag job, starts `themer worker --once` as a subprocess,
kills it with SIGKILL once 30-70% is done, starts a second worker, and checks that the job ends
with exactly the tag rows a clean run gives (per text, the tags of that text x its responses).
The baseline printed for the ratio is the same job run start to finish without a crash.

    python eval/bench/retag_crash.py [--n 100000] [--url postgresql+psycopg://.../scratch]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from themer.nlp.embed import SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import Tagger
from themer.store.jobs import create_retag_job, get_job
from themer.store.models import TagRow
from themer.store.repository import ResponseIn, Store
from themer.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["Search never finds anything.", "The invoices are wrong and pricing is too high.",
         "Love the dashboards.", "The mobile app crashes on upload.",
         "Support answered in minutes.", "Please add a Salesforce integration.",
         "Onboarding took weeks.", "Reports load very slowly, but billing is simple."]


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "themer", "worker", "--once",
                             "--stale-after", "0"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _run(url: str, n: int, folder: Path, crash: bool) -> tuple[float, int, int]:
    store = Store.open(url)
    text = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8")
    version = store.activate_taxonomy(load_taxonomy(ROOT / "taxonomy.yaml"), text)
    for start in range(0, n, 1000):
        store.ingest([ResponseIn(id=f"r{i}", score=i % 11,
                                 comments={"reason": TEXTS[i % len(TEXTS)]})
                      for i in range(start, min(n, start + 1000))])
    job = create_retag_job(store, version.id, None)
    env = {**os.environ, "THEMER_DATABASE_URL": url, "THEMER_CACHE_DIR": str(folder / "cache"),
           "THEMER_MODELS_DIR": str(folder), "THEMER_JOB_CHUNK": "2000", "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    worker = _worker(env)
    killed_at = 0
    if crash:
        while True:
            current = get_job(store, job.id)
            assert current is not None
            if current.done >= 0.3 * n:
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                killed_at = current.done
                break
            if worker.poll() is not None:
                raise SystemExit("the worker ended before it could be killed")
            time.sleep(0.05)
        worker = _worker(env)
    worker.wait()
    elapsed = time.perf_counter() - started
    final = get_job(store, job.id)
    assert final is not None
    if final.state != "done":
        raise SystemExit(f"job ended {final.state}: {final.error}")
    with store.sessions() as session:
        rows = int(session.scalar(select(func.count(TagRow.id))) or 0)
    return elapsed, rows, killed_at


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--url", default=None, help="a scratch database (default: SQLite)")
    args = parser.parse_args()
    tagger = Tagger.build(load_taxonomy(ROOT / "taxonomy.yaml"), SentenceTransformerEncoder(),
                          StatementSplitter())
    frame = pd.DataFrame({"response_id": [str(i) for i in range(len(TEXTS))],
                          "text:reason": TEXTS})
    per_text = Counter(tagger.tag_statements(tagger.split(frame))["response_id"].astype(int))
    expected = sum(per_text[i % len(TEXTS)] for i in range(args.n))
    results = {}
    for crash in (False, True):
        folder = Path(tempfile.mkdtemp())
        url = args.url or f"sqlite:///{folder / 'store.db'}"
        if args.url:
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        results[crash] = _run(url, args.n, folder, crash)
    clean, crashed = results[False], results[True]
    print(f"re-tag of {args.n:,} responses: clean run {clean[0]:.1f} s, {clean[1]:,} tag rows; "
          f"killed (SIGKILL) at {crashed[2]:,} done, resumed by a second worker: {crashed[0]:.1f}"
          f" s, {crashed[1]:,} tag rows; expected {expected:,}")
    print(f"ratio crashed/clean time {crashed[0] / clean[0]:.2f}; tags lost or doubled: "
          f"{'none' if crashed[1] == clean[1] == expected else 'YES'}")


if __name__ == "__main__":
    main()
