"""API latency and ingest throughput (issue 6 targets: classify p99 <= 50 ms and >= 200 req/s;
ingest >= 1,000 responses/s without tagging, tagging-bound with it).

Starts `themer serve` (uvicorn, one worker) on 127.0.0.1 with a fresh SQLite store, then:
- /v1/classify, one short comment per call, sequential: p50 / p99 latency and requests/s; the
  baseline measured in the same run is the same tagging called in-process (no HTTP), so the ratio
  is what the HTTP layer costs;
- concurrent /v1/classify from 8 client threads: requests/s;
- ingest through the repository (no tagging) into SQLite and, when THEMER_TEST_PG (or --pg) is
  set, PostgreSQL: responses/s for batches of 256, against a plain executemany INSERT of the same
  rows (the baseline);
- POST /v1/responses (ingest + tagging) with 32 new responses per call: responses/s.

    python eval/bench/api_load.py [--requests 300] [--pg URL_OF_A_SCRATCH_DATABASE]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from themer.store.models import ResponseRow
from themer.store.repository import ResponseIn, Store

ROOT = Path(__file__).resolve().parents[2]
COMMENTS = ["Search never finds anything.", "Love the dashboards.", "Too expensive for us.",
            "The mobile app crashes when I upload a file.", "Support answered in minutes.",
            "Please add a Salesforce integration.", "Onboarding took weeks.",
            "Reports load very slowly."]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ingest_rate(url: str, n: int, batch: int = 256) -> tuple[float, float]:
    """(repository responses/s, plain INSERT responses/s) on an empty store at ``url``."""
    items = [ResponseIn(id=f"r{i}", score=i % 11, comments={"reason": COMMENTS[i % 8]},
                        segments={"plan": "pro"}) for i in range(n)]
    if url.startswith("postgresql"):  # a scratch database: emptied first
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    store = Store.open(url)
    started = time.perf_counter()
    for start in range(0, n, batch):
        store.ingest(items[start:start + batch])
    repository = n / (time.perf_counter() - started)
    rows = [{"source": "plain", "source_response_id": i.id, "score": i.score, "scale": "nps",
             "category": i.category, "survey_type": i.survey_type, "comments": i.comments,
             "segments": i.segments, "raw": {}} for i in items]
    started = time.perf_counter()
    for start in range(0, n, batch):
        with store.engine.begin() as connection:
            connection.execute(insert(ResponseRow), rows[start:start + batch])
    plain = n / (time.perf_counter() - started)
    return repository, plain


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--ingest", type=int, default=20_000)
    parser.add_argument("--pg", default=os.environ.get("THEMER_TEST_PG"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'api.db'}"
    key = Store.open(url).create_key("write")
    port = _port()
    env = {**os.environ, "THEMER_DATABASE_URL": url, "THEMER_TAXONOMY": str(ROOT / "taxonomy.yaml"),
           "THEMER_MODELS_DIR": str(folder), "THEMER_RATE_LIMIT_PER_MINUTE": "1000000",
           "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "themer", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        client = httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60)
        deadline = time.monotonic() + 180
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server never became ready")
            time.sleep(0.5)
        for text in COMMENTS:  # warm the embedding cache: steady-state CX traffic repeats little,
            client.post("/v1/classify", json={"comments": [{"text": text}]})  # so also cold below
        latencies = []
        for i in range(args.requests):
            text = f"{COMMENTS[i % 8]} (ticket {i})"  # distinct texts: every call embeds
            started = time.perf_counter()
            answer = client.post("/v1/classify", json={"comments": [{"text": text}]})
            latencies.append(time.perf_counter() - started)
            answer.raise_for_status()
        p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
        sequential_rps = len(latencies) / sum(latencies)

        def one(i: int) -> None:
            client.post("/v1/classify", json={"comments": [
                {"text": f"{COMMENTS[i % 8]} (chat {i})"}]}).raise_for_status()

        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, range(args.requests)))
        concurrent_rps = args.requests / (time.perf_counter() - started)

        batches = 10
        started = time.perf_counter()
        for b in range(batches):
            client.post("/v1/responses", json={"responses": [
                {"id": f"h{b}-{i}", "score": i % 11,
                 "comments": {"reason": f"{COMMENTS[i % 8]} ({b}-{i})"}}
                for i in range(32)]}).raise_for_status()
        tagged_rps = batches * 32 / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(30)

    from themer.config import Settings
    from themer.nlp.cache import EmbeddingCache
    from themer.nlp.embed import CachedEncoder, SentenceTransformerEncoder
    from themer.nlp.split import StatementSplitter
    from themer.nlp.tagger import Tagger
    from themer.taxonomy import load_taxonomy

    settings = Settings()
    # The server's encoder: the same model behind the embedding cache (fresh, so every new text
    # is embedded, as in the HTTP runs).
    encoder = CachedEncoder(SentenceTransformerEncoder(device=settings.device,
                                                       batch_tokens=settings.batch_tokens),
                            EmbeddingCache(folder / "baseline-cache"))
    tagger = Tagger.build(load_taxonomy(ROOT / "taxonomy.yaml"), encoder, StatementSplitter())
    direct = []
    for text in COMMENTS:  # warm-up, as for the server
        tagger.tag_statements(tagger.split(pd.DataFrame({"response_id": ["0"],
                                                         "text:comment": [text]})))
    for i in range(min(args.requests, 200)):
        frame = pd.DataFrame({"response_id": ["0"],
                              "text:comment": [f"{COMMENTS[i % 8]} (direct {i})"]})
        started = time.perf_counter()
        tagger.tag_statements(tagger.split(frame))
        direct.append(time.perf_counter() - started)
    direct_p50 = _percentile(direct, 0.5)
    print(f"/v1/classify, 1 comment, sequential ({args.requests} calls, each a new text): "
          f"p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms, {sequential_rps:.0f} req/s "
          f"(targets p99 <= 50 ms, >= 200 req/s)")
    print(f"baseline: the same tagging in-process, p50 {1000 * direct_p50:.1f} ms; "
          f"ratio HTTP/in-process p50 {p50 / direct_p50:.2f}; "
          f"mean {1000 * statistics.mean(direct):.1f} ms")
    print(f"/v1/classify with 8 concurrent clients: {concurrent_rps:.0f} req/s")
    print(f"POST /v1/responses with tagging (32 new responses per call): {tagged_rps:.0f} "
          "responses/s")
    stores = [("SQLite", f"sqlite:///{folder / 'ingest.db'}")]
    if args.pg:
        stores.append(("PostgreSQL", args.pg))
    for name, store_url in stores:
        repository, plain = ingest_rate(store_url, args.ingest)
        print(f"ingest without tagging into {name} ({args.ingest:,} responses, batches of 256): "
              f"{repository:,.0f} responses/s vs plain INSERT {plain:,.0f}/s, ratio "
              f"{repository / plain:.2f} (target >= 1,000/s)")


if __name__ == "__main__":
    main()
