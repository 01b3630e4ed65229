"""Zero-shot decision rule chosen across the public sets: tune on the others, report on each.

For every set (taxonomy in eval/taxonomies/, same MiniLM) this measures, in the same run:
  * the naive rule of issue 18: prototype = mean of the label's description + examples,
    argmax plus any label within 0.03 of the best, no threshold, whole text;
  * themer's previous zero-shot defaults (thresholds chosen on the synthetic example);
  * themer's PrototypeScorer over a grid of (example weight, name weight, margin, threshold),
    whole text and statement by statement (the comment gets the union of its statements'
    labels, as themer tags). Areas and types are different decisions (several areas, one
    type), so each kind is tuned on the sets of its kind (areas: AUREA, restaurants; types:
    Maalej, Panichella, GitHub): for each held-out set, the grid point with the best
    worst-case gain over the naive rule on the OTHER sets of its kind is chosen and reported
    on the held-out set; the shipped defaults (themer/nlp/tagger.py) are the point chosen, in
    statement mode, on all the sets of the kind.

    python eval/bench/zero_shot_cv.py [--markdown eval/zero_shot_cv.md]

Types are decided one label per text (themer's rule for types) unless ``--multi-types``.
Prints macro-F1, abstention (share of texts with no label) and the difference to the naive
rule measured in the same run. Reads ../shared/datasets (or THEMER_DATASETS).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.accuracy import SETS, cached_encoder, load_labelled
from eval.bench.common import write_markdown
from themer.config import Settings
from themer.nlp.classify import DecisionRule, PrototypeScorer, assign
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import DEFAULT_PROTOTYPE_PARAMS, DEFAULT_RULES, prototype_scorer

GRID = list(itertools.product((0.0, 0.25, 0.5), (0.0, 0.15, 0.3),
                              (0.0, 0.01, 0.02, 0.03, 0.04, 0.06),
                              (-1.0, 0.1, 0.15, 0.2, 0.25, 0.3)))
OLD_DEFAULTS = {"area": {"threshold": 0.4, "example_weight": 0.5, "margin": 0.0},
                "type": {"threshold": 0.25, "example_weight": 0.25, "margin": 0.0}}
BODY_CHARS = 2000  # GitHub issues: title + the first 2,000 characters of the body


@dataclass
class Prepared:
    name: str
    kind: str
    gold: np.ndarray  # (texts, gold labels)
    columns: list[int]  # gold label -> scorer column
    blocks: list[np.ndarray]
    names: np.ndarray
    texts: np.ndarray  # whole-text vectors
    statements: np.ndarray  # statement vectors
    owner: np.ndarray  # statement -> text


def prepare(name: str, encoder: object, splitter: StatementSplitter) -> Prepared:
    data = load_labelled(name)
    texts = data.texts
    if data.spec.title_col is not None:  # title + "\n" + body: keep the first 2,000 body chars
        texts = [t.split("\n", 1)[0] + "\n" + t.split("\n", 1)[-1][:BODY_CHARS] for t in texts]
    labels = data.taxonomy.taxonomy.labels(data.spec.kind)
    ids = [label.id for label in labels]
    blocks = [encoder.encode(label.prototype_texts()) for label in labels]  # type: ignore[attr-defined]
    names = encoder.encode([label.name_text() for label in labels])  # type: ignore[attr-defined]
    spans = list(splitter.split_many(texts))
    owner = np.repeat(np.arange(len(texts)), [len(s) for s in spans])
    statements = encoder.encode([s.text for comment in spans for s in comment])  # type: ignore[attr-defined]
    return Prepared(name, data.spec.kind, data.gold, [ids.index(g) for g in data.labels],
                    blocks, names, encoder.encode(texts), statements, owner)  # type: ignore[attr-defined]


def naive(p: Prepared) -> np.ndarray:
    centroids = np.stack([b.mean(axis=0) for b in p.blocks])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    scores = p.texts @ centroids.T
    return scores >= scores.max(axis=1, keepdims=True) - 0.03


def predict(p: Prepared, params: dict[str, float], split: bool, multi_types: bool
            ) -> np.ndarray:
    scorer = PrototypeScorer(**params).fit(p.blocks, [str(i) for i in range(len(p.blocks))],
                                           names=p.names)
    rule = DEFAULT_RULES["area" if (p.kind == "area" or multi_types) else "type"]
    rule = DecisionRule(rule.multi_label, 0.5, max_labels=3)
    if not split:
        return assign(scorer.predict_proba(p.texts), rule)
    per_statement = assign(scorer.predict_proba(p.statements), rule)
    out = np.zeros((len(p.texts), len(p.blocks)), dtype=bool)
    np.logical_or.at(out, p.owner, per_statement)
    return out


def scores(p: Prepared, predicted: np.ndarray) -> tuple[float, float]:
    kept = predicted[:, p.columns]
    return (float(f1_score(p.gold, kept, average="macro", zero_division=0)),
            float((~kept.any(axis=1)).mean()))


def grid_point(params: tuple[float, ...]) -> dict[str, float]:
    ew, nw, margin, threshold = params
    return {"example_weight": ew, "name_weight": nw, "margin": margin, "threshold": threshold}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--multi-types", action="store_true")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    encoder = cached_encoder()
    splitter = StatementSplitter(splitter=Settings().splitter)
    sets = [prepare(spec.name, encoder, splitter) for spec in SETS]
    print("prepared", file=sys.stderr, flush=True)
    base = {p.name: scores(p, naive(p))[0] for p in sets}
    rows = []
    for split in (False, True):
        mode = "statements" if split else "whole text"
        table = {p.name: np.array([scores(p, predict(p, grid_point(g), split, args.multi_types))
                                   for g in GRID]) for p in sets}
        gains = {name: t[:, 0] - base[name] for name, t in table.items()}
        kinds = {p.name: p.kind for p in sets}
        for p in sets:
            others = [n for n in gains if n != p.name and kinds[n] == p.kind]
            worst = np.min([gains[n] for n in others], axis=0)
            mean = np.mean([gains[n] for n in others], axis=0)
            chosen = int(np.argmax(worst + 1e-3 * mean))
            f1, abstain = table[p.name][chosen]
            old = scores(p, predict(p, OLD_DEFAULTS[p.kind], split, args.multi_types))
            rows.append({"set": p.name, "mode": mode, "naive_f1": base[p.name],
                         "old_f1": old[0], "old_abstain": old[1],
                         "tuned_on_others": str(GRID[chosen]), "f1": f1, "abstain": abstain,
                         "gain": f1 - base[p.name]})
        for kind in ("area", "type"):
            same = [gains[n] for n in gains if kinds[n] == kind]
            chosen = int(np.argmax(np.min(same, axis=0) + 1e-3 * np.mean(same, axis=0)))
            print(f"{mode}, {kind}s: chosen on all sets of the kind {grid_point(GRID[chosen])}: "
                  + ", ".join(f"{n} {t[chosen, 0]:.3f} (abstain {t[chosen, 1]:.1%})"
                              for n, t in table.items() if kinds[n] == kind))
    shown = pd.DataFrame(rows).round(3)
    print(shown.to_string(index=False))
    shipped = {kind: dict(params) for kind, params in DEFAULT_PROTOTYPE_PARAMS.items()}
    print("shipped defaults:", shipped)
    for p in sets:
        scorer = prototype_scorer(load_labelled(p.name).taxonomy, p.kind, encoder)  # type: ignore[arg-type]
        rule = DEFAULT_RULES[p.kind]  # type: ignore[index]
        whole = scores(p, assign(scorer.predict_proba(p.texts), rule))
        split = np.zeros((len(p.texts), len(p.blocks)), dtype=bool)
        np.logical_or.at(split, p.owner, assign(scorer.predict_proba(p.statements), rule))
        by_statement = scores(p, split)
        print(f"  shipped on {p.name}: statements {by_statement[0]:.3f} (abstain "
              f"{by_statement[1]:.1%}), whole text {whole[0]:.3f} (abstain {whole[1]:.1%}); "
              f"naive {base[p.name]:.3f}; statements - naive {by_statement[0] - base[p.name]:+.3f}")
    if args.markdown is not None:
        write_markdown(shown, args.markdown)


if __name__ == "__main__":
    main()
