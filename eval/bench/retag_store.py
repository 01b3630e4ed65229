"""Re-tag a store of a million comments after a taxonomy edit, from cached vectors.

Setup (not timed): a fresh SQLite store holds --n responses (one public feedback sentence or
review each, distinct; `tag_1m.texts`), their statements (split once with the `sentencizer`, as
an earlier tagging would have stored them) and, in the embedding cache, the static encoder's
vector of every statement. Then, each in a child process with THEMER_ENCODER=static (time and
peak resident memory, VmHWM):

1. `themer retag --taxonomy v1.yaml`: the first tagging of the stored history (no earlier tags);
2. `themer retag --taxonomy v2.yaml` (v1 with the billing area removed): the re-tag after a
   taxonomy edit, which also reads v1's tags to count what was added and removed.

Baseline, in the same run: `Tagger.retag` over the same statements straight from the cache, no
store (read vectors + decisions, nothing written); the ratio is store re-tag / baseline.

    python eval/bench/retag_store.py --static models/static-minilm [--n 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.common import ROOT, run_child
from eval.bench.tag_1m import texts
from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import CachedEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.static_encoder import StaticEncoder
from themer.nlp.tagger import Tagger
from themer.store.models import ResponseRow, StatementRow
from themer.store.repository import ResponseIn, Store
from themer.taxonomy import load_taxonomy

BATCH = 20_000


def _without_billing(text: str) -> str:
    start, end = text.index("  - id: billing"), text.index("  - id: mobile")
    return text[:start].replace("version: 1", "version: 2") + text[end:]


def fill(url: str, comments: list[str], encoder: CachedEncoder) -> pd.DataFrame:
    """Responses, their statements and the statements' cached vectors; returns the statements."""
    store = Store.open(url)
    splitter = StatementSplitter(splitter="sentencizer")
    store.ingest_all([ResponseIn(id=f"r{i}", score=i % 11, comments={"reason": comments[i]})
                      for i in range(start, min(len(comments), start + BATCH))]
                     for start in range(0, len(comments), BATCH))
    with store.sessions() as session:
        ids = list(session.scalars(select(ResponseRow.id).order_by(ResponseRow.id)))
    rows: list[dict[str, object]] = []
    for start in range(0, len(comments), BATCH):
        part = comments[start:start + BATCH]
        for rid, spans in zip(ids[start:start + BATCH], splitter.split_many(part), strict=True):
            rows += [{"response_id": rid, "question": "reason", "start": s.start, "end": s.end,
                      "text": s.text} for s in spans]
    with store.sessions.begin() as session:
        for start in range(0, len(rows), BATCH):
            session.execute(insert(StatementRow), rows[start:start + BATCH])
    statements = pd.DataFrame({"response_id": [str(r["response_id"]) for r in rows],
                               "statement_id": [str(i) for i in range(len(rows))],
                               "question": "reason", "start": [r["start"] for r in rows],
                               "end": [r["end"] for r in rows],
                               "statement": [r["text"] for r in rows]})
    distinct = list(dict.fromkeys(statements["statement"]))
    for start in range(0, len(distinct), BATCH):
        encoder.encode(distinct[start:start + BATCH])
    return statements


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--static", type=Path, default=Path("models/static-minilm"))
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    comments = texts(args.n)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = f"sqlite:///{folder / 'themer.db'}"
        encoder = CachedEncoder(StaticEncoder(args.static.resolve()),
                                EmbeddingCache(folder / "cache" / "embeddings"))
        began = time.perf_counter()
        statements = fill(url, comments, encoder)
        print(f"setup: {args.n} responses, {len(statements)} statements stored and their "
              f"vectors cached in {time.perf_counter() - began:.0f} s")
        v1 = ROOT / "taxonomy.yaml"
        v2 = folder / "taxonomy-v2.yaml"
        v2.write_text(_without_billing(v1.read_text(encoding="utf-8")), encoding="utf-8")

        tagger = Tagger.build(load_taxonomy(v2), encoder, StatementSplitter())
        began = time.perf_counter()
        rows = sum(len(tags) for tags in tagger.retag(statements))
        baseline = time.perf_counter() - began
        print(f"baseline Tagger.retag from the cache, no store: {baseline:.1f} s "
              f"({rows} tag rows)")
        env = {**os.environ, "THEMER_ENCODER": "static", "HF_HUB_OFFLINE": "1",
               "THEMER_STATIC_MODEL": str(args.static.resolve()), "THEMER_DATABASE_URL": url,
               "THEMER_CACHE_DIR": str(folder / "cache"), "THEMER_MODELS_DIR": str(folder)}
        for name, taxonomy in (("first tagging (v1)", v1), ("re-tag after an edit (v2)", v2)):
            seconds, peak, output = run_child(["retag", "--taxonomy", str(taxonomy)], env)
            said = next((x for x in output.splitlines() if x.startswith("re-tagged")), output)
            print(f"themer retag, {name}: {seconds:.1f} s, peak {peak:.0f} MiB; {said.strip()}"
                  f" (ratio to baseline {seconds / baseline:.1f}x)")


if __name__ == "__main__":
    main()
