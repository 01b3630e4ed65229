"""SetFit (setfit 1.2, local MiniLM folder, no hub) on a labelled set, on themer's CV folds.

Optional comparison for issue 4; setfit is not a themer dependency. Install it only in a
benchmark environment (``pip install setfit==1.2.0`` next to themer), then:

    python eval/bench/setfit_maalej.py [--max-steps 200] [--folds 5]

Prints macro-F1 and training seconds per fold next to themer's head (frozen embeddings +
calibrated LR with tuned cuts) trained on the same folds in the same run, and the ratio of
training times.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.common import DATASETS
from themer.config import Settings
from themer.evaluation.crossval import cv_folds, predict_cv
from themer.nlp.cache import EmbeddingCache
from themer.nlp.classify import DecisionRule
from themer.nlp.embed import CachedEncoder, SentenceTransformerEncoder, default_model_path
from themer.nlp.training import label_matrix

LABELS = ["bug_report", "feature_request", "user_experience", "rating"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-steps", type=int, default=200)
    parser.add_argument("--folds", type=int, default=5, help="how many of the 5 folds to run")
    args = parser.parse_args()
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    frame = pd.read_csv(DATASETS / "app_reviews_maalej.csv", dtype=str, keep_default_na=False)
    gold, labels, kept = label_matrix(frame, "labels", ";", LABELS, "maalej")
    texts = np.asarray(frame["text"].iloc[kept].tolist(), dtype=object)
    folds = cv_folds(gold, 5)[: args.folds]
    settings = Settings()
    encoder = CachedEncoder(SentenceTransformerEncoder(settings.model or None),
                            EmbeddingCache(settings.cache_dir / "embeddings"))
    vectors = encoder.encode(texts.tolist())

    tested = np.concatenate([test for _, test in folds])
    started = time.perf_counter()
    head = predict_cv(vectors, gold, labels, DecisionRule(multi_label=True), 5,
                      texts=texts.tolist())
    head_total = time.perf_counter() - started
    # What the head pays that SetFit folds into its training: embedding the texts once.
    started = time.perf_counter()
    encoder.encoder.encode(texts.tolist())
    embed_seconds = time.perf_counter() - started
    head_f1 = f1_score(gold[tested], head.predicted[tested], average="macro", zero_division=0)

    predicted = np.zeros(gold.shape, dtype=bool)
    setfit_seconds = []
    for number, (train, test) in enumerate(folds):
        model = SetFitModel.from_pretrained(str(default_model_path()),
                                            multi_target_strategy="one-vs-rest")
        data = Dataset.from_dict({"text": texts[train].tolist(),
                                  "label": gold[train].astype(int).tolist()})
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as scratch:  # checkpoints never land in the repo
            trainer = Trainer(model=model, train_dataset=data,
                              args=TrainingArguments(output_dir=scratch, batch_size=16,
                                                     num_epochs=1, max_steps=args.max_steps,
                                                     seed=0, save_strategy="no"))
            trainer.train()
        setfit_seconds.append(time.perf_counter() - started)
        predicted[test] = np.asarray(model.predict(texts[test].tolist()), dtype=bool)
        fold_f1 = f1_score(gold[test], predicted[test], average="macro", zero_division=0)
        print(f"fold {number}: setfit macro-F1 {fold_f1:.3f}, trained in "
              f"{setfit_seconds[-1]:.0f} s", flush=True)
    setfit_f1 = f1_score(gold[tested], predicted[tested], average="macro", zero_division=0)
    print(f"setfit (max_steps={args.max_steps}): macro-F1 {setfit_f1:.3f} "
          f"per label {np.round(f1_score(gold[tested], predicted[tested], average=None), 3)}, "
          f"training {sum(setfit_seconds):.0f} s over {len(folds)} folds")
    print(f"themer head: macro-F1 {head_f1:.3f}, training {head_total:.0f} s over 5 folds "
          f"from cached vectors; embedding all {len(texts)} texts uncached took "
          f"{embed_seconds:.0f} s (counted once per fold below, to be fair to SetFit)")
    per_fold_head = head_total / 5 + embed_seconds
    per_fold_setfit = sum(setfit_seconds) / len(folds)
    print(f"ratio: head - setfit macro-F1 {head_f1 - setfit_f1:+.3f}; setfit / head training "
          f"time per fold {per_fold_setfit / per_fold_head:.1f}x")


if __name__ == "__main__":
    main()
