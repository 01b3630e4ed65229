"""Learning curve of the labelling loop: macro-F1 after 25..400 labels, loop vs random vs full.

Each set is split once (seed 0, 70/30, stratified on each row's rarest label) into a pool the
simulated analyst labels from and a held-out test part. Then, on the test part:
  * loop: ``themer.nlp.active.choose_to_label`` picks the next rows (first round from the
    zero-shot prototypes, then from the head of ``fit_labelled_head`` on the labels so far),
    the gold labels of the chosen rows are revealed, the head re-trained;
  * random: the same head on rows drawn at random from the pool (nested draws, per seed);
  * full: ``LinearHead`` on the whole pool.
Random is averaged over ``--seeds`` seeds, the loop over ``--loop-seeds``. The loop also
reports, for seed 0, the cross-validated estimate of ``estimate_accuracy`` (3 folds, with its
95% interval) next to the test F1.

    python eval/bench/learning_curve.py [--only maalej,aurea] [--seeds 3] [--loop-seeds 1]
        [--markdown FILE]

Reads ../shared/datasets (or THEMER_DATASETS); embeddings come from the themer cache.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.accuracy import SETS, Labelled, cached_encoder, load_labelled
from themer.nlp.active import (
    SeedRows,
    choose_to_label,
    estimate_accuracy,
    fit_labelled_head,
    seed_rows,
)
from themer.nlp.classify import DecisionRule, LinearHead, assign
from themer.nlp.embed import CachedEncoder
from themer.nlp.tagger import DEFAULT_RULES, prototype_scorer

BUDGETS = (25, 50, 100, 200, 400)
# Rounds of 25 up to 100 labels, then of 50: the targets are at 50 and 100, and the larger
# rounds halve the re-training past them (2 shared cores).
ROUNDS = (25, 25, 25, 25, 50, 50, 50, 50, 50, 50)


@dataclass(frozen=True)
class Bench:
    """One set, split: pool (what the analyst may label) and test (held out)."""

    name: str
    X: np.ndarray
    Y: np.ndarray
    texts: list[str]
    labels: list[str]
    pool: np.ndarray
    test: np.ndarray
    seeds: SeedRows
    zero_shot: np.ndarray  # (n, L) prototype confidences of every row
    rule: DecisionRule

    def part(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        return self.X[rows], self.Y[rows], [self.texts[i] for i in rows]


def split_pool(gold: np.ndarray, test_share: float = 0.3, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """(pool, test) row positions: each stratum (rarest gold label) split test_share / rest."""
    rng = np.random.default_rng(seed)
    support = gold.sum(axis=0)
    strata = np.where(gold, support[None, :], np.iinfo(np.int64).max).argmin(axis=1)
    test: list[int] = []
    for stratum in np.unique(strata):
        rows = rng.permutation(np.flatnonzero(strata == stratum))
        test += rows[:round(test_share * len(rows))].tolist()
    is_test = np.zeros(len(gold), dtype=bool)
    is_test[test] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def prepare(data: Labelled, encoder: CachedEncoder) -> Bench:
    X = encoder.encode(data.texts)
    kind = data.spec.kind
    by_id = {label.id: label for label in data.taxonomy.taxonomy.labels(kind)}
    phrases = [by_id[label].prototype_texts() for label in data.labels]
    seeds = seed_rows(phrases, encoder.encode([t for block in phrases for t in block]))
    scorer = prototype_scorer(data.taxonomy, kind, encoder)
    columns = [list(scorer.classes_).index(label) for label in data.labels]
    zero_shot = scorer.predict_proba(X)[:, columns]
    multi_gold = bool((data.gold.sum(axis=1) > 1).any())
    rule = replace(DEFAULT_RULES[kind], multi_label=DEFAULT_RULES[kind].multi_label or multi_gold)
    pool, test = split_pool(data.gold)
    return Bench(data.spec.name, X, data.gold, data.texts, data.labels, pool, test, seeds,
                 zero_shot, rule)


def heldout_f1(bench: Bench, head: LinearHead) -> float:
    X, Y, texts = bench.part(bench.test)
    rule = replace(bench.rule, label_thresholds=tuple(float(t) for t in head.thresholds_))
    predicted = assign(head.predict_proba(X, texts), rule)
    return float(f1_score(Y, predicted, average="macro", zero_division=0))


def fit_on(bench: Bench, rows: np.ndarray, seed: int) -> LinearHead:
    X, Y, texts = bench.part(rows)
    return fit_labelled_head(X, Y, bench.labels, texts, seeds=bench.seeds, random_state=seed)


def loop_curve(bench: Bench, seed: int, estimate: bool) -> dict[int, dict[str, float]]:
    """Test macro-F1 (and, if ``estimate``, the CV estimate) at each budget of the loop."""
    pool = bench.pool
    Xp, _, texts = bench.part(pool)
    keys = [f"row{i:06d}" for i in pool]
    labelled = np.zeros(len(pool), dtype=bool)
    proba, bars = bench.zero_shot[pool], np.full(len(bench.labels), 0.5, dtype=np.float32)
    out: dict[int, dict[str, float]] = {}
    for size in ROUNDS[:sum(np.cumsum(ROUNDS) <= max(BUDGETS))]:
        chosen = choose_to_label(Xp, proba, bars, labelled, size, keys=keys, seed=seed)
        labelled[chosen] = True
        rows = pool[labelled]
        head = fit_on(bench, rows, seed)
        proba, bars = head.predict_proba(Xp, texts), head.thresholds_
        count = int(labelled.sum())
        if count in BUDGETS:
            out[count] = {"f1": heldout_f1(bench, head)}
            if estimate:
                X, Y, rows_texts = bench.part(rows)
                out[count].update(estimate_accuracy(X, Y, bench.labels, rows_texts,
                                                    seeds=bench.seeds, seed=seed, folds=3,
                                                    multi_label=bench.rule.multi_label))
    return out


def random_curve(bench: Bench, seed: int) -> dict[int, float]:
    order = np.random.default_rng(1000 + seed).permutation(bench.pool)
    return {n: heldout_f1(bench, fit_on(bench, order[:n], seed)) for n in BUDGETS}


def run_set(name: str, encoder: CachedEncoder, seeds: int, loop_seeds: int) -> dict[str, Any]:
    bench = prepare(load_labelled(name), encoder)
    started = time.perf_counter()
    Xp, Yp, texts = bench.part(bench.pool)
    full = heldout_f1(bench, LinearHead(random_state=0).fit(Xp, Yp, bench.labels, texts))
    full_seconds = time.perf_counter() - started
    started = time.perf_counter()
    loops = [loop_curve(bench, seed, estimate=seed == 0) for seed in range(loop_seeds)]
    loop_seconds = (time.perf_counter() - started) / loop_seeds
    randoms = [random_curve(bench, seed) for seed in range(seeds)]
    print(f"done {name}: full {full_seconds:.0f}s, loop {loop_seconds:.0f}s per seed",
          file=sys.stderr, flush=True)
    return {"name": name, "n_pool": len(bench.pool), "n_test": len(bench.test),
            "labels": len(bench.labels), "full": full,
            "loop": {n: float(np.mean([c[n]["f1"] for c in loops])) for n in BUDGETS},
            "random": {n: float(np.mean([c[n] for c in randoms])) for n in BUDGETS},
            "estimate": loops[0], "full_seconds": full_seconds, "loop_seconds": loop_seconds}


def tables(results: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    curve, summary = [], []
    for r in results:
        for method in ("loop", "random"):
            curve.append({"set": r["name"], "method": method,
                          **{str(n): round(r[method][n], 3) for n in BUDGETS},
                          "full pool": round(r["full"], 3)})
        est = r["estimate"]
        curve.append({"set": r["name"], "method": "loop: CV estimate [95% CI], seed 0",
                      **{str(n): f"{est[n]['macro_f1']:.2f} [{est[n]['ci_low']:.2f}, "
                                 f"{est[n]['ci_high']:.2f}]" for n in BUDGETS},
                      "full pool": ""})
        summary.append({"set": r["name"], "pool": r["n_pool"], "test": r["n_test"],
                        "labels": r["labels"],
                        "loop/full @100": round(r["loop"][100] / r["full"], 3),
                        "random/full @100": round(r["random"][100] / r["full"], 3),
                        "loop-random @50": round(r["loop"][50] - r["random"][50], 3),
                        "loop-random @100": round(r["loop"][100] - r["random"][100], 3),
                        "full s": round(r["full_seconds"]), "loop s/seed": round(
                            r["loop_seconds"])})
    return pd.DataFrame(curve), pd.DataFrame(summary)


def markdown(frame: pd.DataFrame) -> str:
    text = frame.astype(str)
    lines = ["| " + " | ".join(text.columns) + " |", "|" + "---|" * len(text.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |"
                              for row in text.itertuples(index=False)]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated set names")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the random choice")
    parser.add_argument("--loop-seeds", type=int, default=None,
                        help="seeds of the loop (default: --seeds); only its k-means and CV "
                             "folds depend on the seed")
    parser.add_argument("--max-labels", type=int, default=400,
                        help="stop the curves at this many labels (the targets are at 100)")
    parser.add_argument("--markdown", type=Path, help="also write both tables as Markdown")
    args = parser.parse_args()
    global BUDGETS  # the curves stop at --max-labels
    BUDGETS = tuple(n for n in BUDGETS if n <= args.max_labels)
    wanted = set(filter(None, args.only.split(",")))
    encoder = cached_encoder()
    results = []
    for spec in SETS:
        if not wanted or spec.name in wanted:
            results.append(run_set(spec.name, encoder, args.seeds,
                                   args.loop_seeds or args.seeds))
            for part in tables(results[-1:]):  # each set's rows as soon as it is done
                print(part.to_string(index=False), file=sys.stderr, flush=True)
    curve, summary = tables(results)
    print(curve.to_string(index=False))
    print()
    print(summary.to_string(index=False))
    if args.markdown is not None:
        args.markdown.write_text(markdown(curve) + "\n" + markdown(summary), encoding="utf-8")


if __name__ == "__main__":
    main()
