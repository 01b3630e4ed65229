"""Fast encoder modes against MiniLM: accuracy with a trained head, and throughput.

For every labelled public set (eval/bench/accuracy.py SETS), on themer's CV folds: a
class-balanced logistic head per label, Platt-calibrated on inner folds, cut at its F1-optimal
threshold (as the shipped head decides), trained on

  * minilm: the shipped all-MiniLM-L6-v2 vectors;
  * static: the distilled static encoder (`themer models distill`, --static PATH);
  * cascade: static for every text; a text whose static probability for any label lies within
    a band of that label's cut is sent to the MiniLM head instead (one column per --band, with
    the share sent).

Throughput, measured in the same run on --n distinct public statements (no cache):
raw `SentenceTransformer.encode` (batch 32) is the baseline; static encode; and the end-to-end
cascade estimate = n / (static time + share sent x MiniLM time for those texts).

    python eval/bench/fast_encoder.py --static models/static-minilm [--band 0.15 0.05 0.02]
    python eval/bench/fast_encoder.py --words   # heads with TF-IDF words, as the shipped head
    python eval/bench/fast_encoder.py --words --int8   # MiniLM side int8 (THEMER_QUANTIZE)

With --int8 the MiniLM side (its head, and the cascade's fallback) is the int8 encoder, and the
cascade estimate uses the int8 encoder's measured rate; the baseline stays raw fp32 encode.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.accuracy import SETS, cached_encoder, load_labelled
from eval.bench.common import public_statements
from themer.config import Settings
from themer.evaluation.crossval import cv_folds
from themer.nlp.classify import f1_optimal_thresholds
from themer.nlp.embed import CachedEncoder, SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.static_encoder import StaticEncoder
from themer.nlp.tagger import Tagger
from themer.taxonomy import load_taxonomy


def calibrated(gold: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray,
               texts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold calibrated probabilities (n, L) and the per-fold-per-label cuts (n, L).

    With ``texts``: the head reads TF-IDF 1-2 grams beside 0.5 x the vector (C=3), the hybrid
    features of head_variants.py."""
    proba = np.zeros(gold.shape, dtype=np.float32)
    cuts = np.full(gold.shape, 0.5, dtype=np.float32)
    full = X
    for train, test in folds:
        if texts is not None:
            tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2,
                                    max_features=20_000)
            words = tfidf.fit_transform(texts[train])
            A = hstack([words, csr_matrix(0.5 * full[train])]).tocsr()
            B = hstack([tfidf.transform(texts[test]), csr_matrix(0.5 * full[test])]).tocsr()
        else:
            A, B = full[train], full[test]
        for j in range(gold.shape[1]):
            y = gold[train, j]
            if y.sum() < 5:
                continue
            make = partial(LogisticRegression, C=3.0 if texts is not None else 1.0,
                           class_weight="balanced", max_iter=3000)
            inner = StratifiedKFold(5, shuffle=True, random_state=0)
            scores = cross_val_predict(make(), A, y, cv=inner, method="decision_function")
            platt = LogisticRegression(C=1e6).fit(scores[:, None], y)
            oof = platt.predict_proba(scores[:, None])[:, 1:].astype(np.float32)
            cuts[test, j] = f1_optimal_thresholds(oof, y[:, None])[0]
            model = make().fit(A, y)
            proba[test, j] = platt.predict_proba(model.decision_function(B)[:, None])[:, 1]
    return proba, cuts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--static", type=Path, default=Path("models/static-minilm"))
    parser.add_argument("--band", type=float, nargs="+", default=[0.15, 0.05, 0.02])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--throughput-only", action="store_true")
    parser.add_argument("--words", action="store_true",
                        help="Heads read TF-IDF words beside the vector (the shipped head).")
    parser.add_argument("--int8", action="store_true",
                        help="The MiniLM side is int8 (THEMER_QUANTIZE=int8).")
    args = parser.parse_args()
    minilm = cached_encoder()
    if args.int8:
        minilm = CachedEncoder(SentenceTransformerEncoder(quantize="int8"), minilm.cache)
    print(f"MiniLM side: {minilm.model_id}")
    static = StaticEncoder(args.static)
    print(f"static encoder {static.model_id}, {static.dim} dims; bands {args.band}")
    print("| set | labels | MiniLM macro-F1 | static | " + " | ".join(
        f"cascade {b} (vs MiniLM, sent)" for b in args.band) + " |")
    print("|---|---|---|---|" + "---|" * len(args.band))
    shares: dict[float, list[float]] = {b: [] for b in args.band}
    for spec in [] if args.throughput_only else SETS:
        data = load_labelled(spec.name)
        folds = cv_folds(data.gold, 5)
        X_m = minilm.encode(data.texts)
        X_s = static.encode(data.texts)
        words = np.asarray(data.texts, dtype=object) if args.words else None
        p_m, c_m = calibrated(data.gold, folds, X_m, words)
        p_s, c_s = calibrated(data.gold, folds, X_s, words)
        pred_m, pred_s = p_m >= c_m, p_s >= c_s
        f1 = [f1_score(data.gold, p, average="macro", zero_division=0) for p in (pred_m, pred_s)]
        cells = []
        for band in args.band:
            unsure = (np.abs(p_s - c_s) < band).any(axis=1)
            pred_c = np.where(unsure[:, None], pred_m, pred_s)
            score = f1_score(data.gold, pred_c, average="macro", zero_division=0)
            shares[band].append(float(unsure.mean()))
            cells.append(f"{score:.3f} ({score - f1[0]:+.3f}, {100 * unsure.mean():.0f}%)")
        print(f"| {spec.name} ({len(data.texts)}) | {data.gold.shape[1]} | {f1[0]:.3f} | "
              f"{f1[1]:.3f} ({f1[1] - f1[0]:+.3f}) | " + " | ".join(cells) + " |", flush=True)
    texts = public_statements(args.n, StatementSplitter(splitter=Settings().splitter))
    from sentence_transformers import SentenceTransformer

    from themer.nlp.embed import default_model_path

    model = SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
    start = time.perf_counter()
    model.encode(texts, batch_size=32, show_progress_bar=False)
    raw = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    static.encode(texts)
    static_rate = len(texts) / (time.perf_counter() - start)
    print(f"raw MiniLM encode: {raw:.0f} texts/s (baseline); static: {static_rate:.0f} texts/s "
          f"(ratio {static_rate / raw:.1f}x)")
    fallback_rate = raw
    if args.int8:
        start = time.perf_counter()
        minilm.encoder.encode(texts)
        fallback_rate = len(texts) / (time.perf_counter() - start)
        print(f"int8 MiniLM encode (the cascade's fallback): {fallback_rate:.0f} texts/s "
              f"(ratio {fallback_rate / raw:.2f}x)")
    # end to end in static mode: split (the configured splitter) + embed + classify + tag rows
    settings = Settings()
    taxonomy = load_taxonomy(Path(__file__).resolve().parents[2] / "taxonomy.yaml")
    tagger = Tagger.build(taxonomy, CachedEncoder(static, None),
                          StatementSplitter(splitter=settings.splitter))
    responses = pd.DataFrame({"response_id": [str(i) for i in range(len(texts))],
                              "text:comment": texts})
    start = time.perf_counter()
    rows = sum(len(t) for t in tagger.iter_tags(responses, 10_000))
    end_to_end = len(texts) / (time.perf_counter() - start)
    print(f"static end to end (split with {settings.splitter} + embed + zero-shot + {rows} tag "
          f"rows): {end_to_end:.0f} texts/s (ratio {end_to_end / raw:.1f}x)")
    for band, sent in shares.items():
        if not sent:
            continue
        share = float(np.mean(sent))
        cascade = 1.0 / (1.0 / static_rate + share / fallback_rate)
        print(f"cascade band {band}: {100 * share:.0f}% sent to MiniLM on average -> "
              f"{cascade:.0f} texts/s (ratio {cascade / raw:.1f}x)")

if __name__ == "__main__":
    main()
