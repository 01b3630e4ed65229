from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from themer.errors import ModelError
from themer.nlp.classify import DecisionRule, LinearHead, assign
from themer.nlp.training import confusion_counts, fit_head, label_matrix, train_head
from themer.taxonomy import TaxonomyInfo

WORDS = {"billing": "invoice charged refund price", "search": "find query results search",
         "mobile": "phone android app ios"}


class FakeEncoder:
    """Deterministic vectors: one direction per label word set, plus seeded noise."""

    model_id = "fake-encoder"

    def encode(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        out = np.zeros((len(texts), 8), dtype=np.float32)
        for i, text in enumerate(texts):
            rng = np.random.default_rng(sum(map(ord, text)))
            out[i] = rng.normal(0, 0.6, 8)
            for j, words in enumerate(WORDS.values()):
                out[i, j] += sum(w in text for w in words.split())
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def labelled_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(90):
        label = list(WORDS)[i % 3]
        words = WORDS[label].split()
        # a few rows carry another label's words: the head makes errors to count
        noise = WORDS[list(WORDS)[(i + 1) % 3]].split()[0] if rng.random() < 0.2 else ""
        rows.append((f"{words[i % 4]} {words[(i + 1) % 4]} {noise} row {i}", label))
    return pd.DataFrame(rows, columns=["text", "label"])


def test_head_json_carries_error_rates_matching_a_hand_count(
        tmp_path: Path, taxonomy: TaxonomyInfo) -> None:
    frame = labelled_frame()
    meta = train_head(frame, text_col="text", label_col="label", labels_sep="", kind="area",
                      taxonomy=taxonomy, encoder=FakeEncoder(),  # type: ignore[arg-type]
                      output=tmp_path / "head", source="labels.csv")
    saved = json.loads((tmp_path / "head" / "head.json").read_text(encoding="utf-8"))
    assert saved["error_rates"] == meta["error_rates"]
    assert set(saved["error_rates"]) == set(saved["labels"])
    # hand count: refit the same head, decide its out-of-fold probabilities at the saved cuts
    Y, classes, kept = label_matrix(frame, "label", "", taxonomy.taxonomy.label_ids("area"),
                                    "labels.csv")
    texts = frame["text"].iloc[kept].tolist()
    head = LinearHead(random_state=0).fit(FakeEncoder().encode(texts), Y, classes, texts)
    rule = DecisionRule(multi_label=True, min_confidence=0.5,
                        label_thresholds=tuple(saved["label_thresholds"][c] for c in classes))
    predicted = assign(head.oof_proba_, rule)
    for j, label in enumerate(classes):
        gold, pred = Y[:, j], predicted[:, j]
        expected = {"tp": int((gold & pred).sum()), "fp": int((~gold & pred).sum()),
                    "fn": int((gold & ~pred).sum()), "tn": int((~gold & ~pred).sum())}
        assert saved["error_rates"][label] == expected
        assert sum(expected.values()) == len(kept)


def test_fit_head_measures_what_train_head_saves() -> None:
    frame = labelled_frame()
    texts = frame["text"].tolist()
    Y = np.stack([(frame["label"] == c).to_numpy() for c in WORDS], axis=1)
    fitted = fit_head(FakeEncoder().encode(texts), Y, list(WORDS), texts, kind="type")
    assert set(fitted.error_rates) == set(WORDS)
    assert fitted.metrics["macro_f1"] > 0.5
    for counts in fitted.error_rates.values():
        assert sum(counts.values()) == len(texts)


def test_confusion_counts_by_hand() -> None:
    gold = np.array([[1, 0], [1, 1], [0, 0]], dtype=bool)
    pred = np.array([[1, 1], [0, 1], [0, 0]], dtype=bool)
    assert confusion_counts(gold, pred, ["a", "b"]) == {
        "a": {"tp": 1, "fp": 0, "fn": 1, "tn": 1}, "b": {"tp": 1, "fp": 1, "fn": 0, "tn": 1}}
    with pytest.raises(ModelError):
        confusion_counts(gold, pred[:, :1], ["a", "b"])


def test_scores_give_error_rates_per_nps_group(tmp_path: Path, taxonomy: TaxonomyInfo) -> None:
    frame = labelled_frame()
    frame["score"] = [(0, 8, 10)[i % 3] for i in range(len(frame))]
    meta = train_head(frame, text_col="text", label_col="label", labels_sep="", kind="area",
                      taxonomy=taxonomy, encoder=FakeEncoder(),  # type: ignore[arg-type]
                      output=tmp_path / "head", source="labels.csv", score_col="score")
    saved = json.loads((tmp_path / "head" / "head.json").read_text(encoding="utf-8"))
    assert saved["error_rates_by_group"] == meta["error_rates_by_group"]
    for label, groups in saved["error_rates_by_group"].items():
        assert len(groups) == 3  # promoter, passive, detractor
        for key in ("tp", "fp", "fn", "tn"):
            assert sum(g[key] for g in groups) == saved["error_rates"][label][key]
        assert [sum(g.values()) for g in groups] == [30, 30, 30]
