"""What was tried for zero-shot (no labels) on a labelled set: variants of the prototypes.

Each variant scores every text against each label and takes the best label (top-1), so the
comparison is of the similarity scores alone. Few-shot rows add K labelled training-fold
examples per label to the prototypes (themer's CV folds; scored on the held-out folds).

    python eval/bench/zero_shot_variants.py [--set maalej]

The ratio printed is each variant's macro-F1 over the shipped prototypes', in the same run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.accuracy import SETS, cached_encoder, load_labelled
from themer.evaluation.crossval import cv_folds
from themer.nlp.classify import PrototypeScorer
from themer.nlp.tagger import DEFAULT_PROTOTYPE_PARAMS, prototype_scorer


def top1(scores: np.ndarray) -> np.ndarray:
    out = np.zeros(scores.shape, dtype=bool)
    out[np.arange(len(scores)), scores.argmax(axis=1)] = True
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", default="maalej", choices=[s.name for s in SETS])
    args = parser.parse_args()
    data = load_labelled(args.set)
    spec, taxonomy, gold, present = data.spec, data.taxonomy, data.gold, data.labels
    encoder = cached_encoder()
    X = encoder.encode(data.texts)
    labels = [label for label in taxonomy.taxonomy.labels(spec.kind) if label.id in present]
    scorer = prototype_scorer(taxonomy, spec.kind, encoder)
    columns = [list(scorer.classes_).index(label.id) for label in labels]
    shipped = scorer.decision_function(X)[:, columns]
    descriptions = encoder.encode([label.description for label in labels])
    names = encoder.encode([label.id.replace("_", " ") for label in labels])
    blocks = [encoder.encode(label.prototype_texts()) for label in labels]
    centroids = np.stack([b.mean(axis=0) for b in blocks])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    variants = {
        "shipped prototypes (centroid + best example)": shipped,
        "description only": X @ descriptions.T,
        "label name only": X @ names.T,
        "centroid of description + examples": X @ centroids.T,
        "best single example": np.stack([(X @ b.T).max(axis=1) for b in blocks], axis=1),
        "shipped, z-scored per label over the corpus":
            (shipped - shipped.mean(axis=0)) / shipped.std(axis=0),
    }
    # Centroid refinement on the unlabelled corpus (k-means style, prototypes as anchors).
    refined = centroids.copy()
    for _ in range(10):
        similarity = X @ refined.T
        nearest = similarity.argmax(axis=1)
        ordered = np.sort(similarity, axis=1)
        margin = ordered[:, -1] - ordered[:, -2]
        for j in range(len(labels)):
            members = nearest == j
            if members.any():
                sure = members & (margin >= np.median(margin[members]))
                moved = centroids[j] + X[sure].mean(axis=0)
                refined[j] = moved / np.linalg.norm(moved)
    variants["centroids refined on the unlabelled corpus"] = X @ refined.T
    baseline = None
    for name, scores in variants.items():
        macro = f1_score(gold, top1(scores), average="macro", zero_division=0)
        baseline = baseline or macro
        print(f"{name:50s} macro-F1 {macro:.3f}  ratio {macro / baseline:.3f}", flush=True)
    for k in (4, 8, 16, 32):
        predicted = np.zeros(gold.shape, dtype=bool)
        for train, test in cv_folds(gold, 5):
            rng = np.random.default_rng(0)
            extended = []
            for j, block in enumerate(blocks):
                positives = train[gold[train, j]]
                pick = rng.choice(positives, size=min(k, len(positives)), replace=False)
                extended.append(np.vstack([block, X[pick]]))
            few = PrototypeScorer(**DEFAULT_PROTOTYPE_PARAMS[spec.kind]).fit(
                extended, [label.id for label in labels])
            predicted[test] = top1(few.decision_function(X[test]))
        macro = f1_score(gold, predicted, average="macro", zero_division=0)
        print(f"{f'few-shot: prototypes + {k} labelled examples per label':50s} macro-F1 "
              f"{macro:.3f}  ratio {macro / (baseline or 1):.3f}", flush=True)


if __name__ == "__main__":
    main()
