"""Accuracy of zero-shot tags on the synthetic example survey, against the generator's truth.

    python eval/example_accuracy.py

The generator's phrasing is close to the taxonomy's seed phrases, so these numbers are an upper
bound on real-world accuracy; the real bar is on public labelled data (eval harness). Nothing
is tuned here: the zero-shot defaults are chosen on the public sets (eval/bench/zero_shot_cv.py).
Per (response, question) comment: gold areas/types vs predicted (union over its statements).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from themer.ingest import load_responses
from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import CachedEncoder, SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import Tagger
from themer.schema import UNASSIGNED
from themer.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent


def scores(
    tags: pd.DataFrame, truth: pd.DataFrame, kind: str, labels: list[str]
) -> tuple[float, float]:
    key = ["response_id", "question"]
    predicted = (tags[(tags["kind"] == kind) & (tags["label"] != UNASSIGNED)]
                 .groupby(key)["label"].agg(lambda s: sorted(set(s))))
    column = "areas" if kind == "area" else "types"
    gold = truth.set_index(key)[column].fillna("").map(lambda s: [x for x in s.split(";") if x])
    gold = gold[gold.map(len) > 0]
    pred = predicted.reindex(gold.index).map(lambda v: v if isinstance(v, list) else [])
    mlb = MultiLabelBinarizer(classes=labels)
    y_true, y_pred = mlb.fit_transform(gold), mlb.transform(pred)
    return (float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
            float(f1_score(y_true, y_pred, average="micro", zero_division=0)))


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    cache = Path(os.environ.get("THEMER_CACHE_DIR", Path.home() / ".cache" / "themer"))
    taxonomy = load_taxonomy(ROOT / "taxonomy.yaml")
    store = EmbeddingCache(cache / "embeddings")
    encoder = CachedEncoder(SentenceTransformerEncoder(), store)
    tagger = Tagger.build(taxonomy, encoder, StatementSplitter())
    responses = load_responses(ROOT / "examples" / "nps_survey.csv").responses
    truth = pd.read_csv(ROOT / "examples" / "nps_survey_truth.csv", dtype=str)
    statements = tagger.split(responses)
    tags = tagger.tags_from_vectors(statements,
                                    encoder.encode(statements["statement"].tolist()))
    row = ["defaults"]
    for kind in ("area", "type"):
        macro, micro = scores(tags, truth, kind, taxonomy.taxonomy.label_ids(kind))
        un = (tags[tags["kind"] == kind]["label"] == UNASSIGNED).mean()
        row.append(f"{kind}: macro-F1 {macro:.3f} micro-F1 {micro:.3f} unassigned {un:.1%}")
    print(" | ".join(row))


if __name__ == "__main__":
    main()
