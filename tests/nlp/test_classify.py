from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from themer.errors import ModelError
from themer.nlp.classify import (
    DecisionRule,
    LinearHead,
    PrototypeScorer,
    assign,
    f1_optimal_thresholds,
    rule_for_head,
)


def test_assign_multi_label() -> None:
    proba = np.array([[0.9, 0.6, 0.7], [0.1, 0.2, 0.3], [0.55, 0.55, 0.1]], dtype=np.float32)
    mask = assign(proba, DecisionRule(multi_label=True, max_labels=2))
    assert mask.tolist() == [[True, False, True], [False, False, False], [True, True, False]]


def test_assign_single_label_with_margin() -> None:
    proba = np.array([[0.9, 0.85], [0.9, 0.2], [0.3, 0.2], [0.6, 0.6]], dtype=np.float32)
    mask = assign(proba, DecisionRule(multi_label=False, margin=0.1))
    assert mask.tolist() == [[False, False], [True, False], [False, False], [False, False]]
    no_margin = assign(proba, DecisionRule(multi_label=False))
    assert no_margin[3].tolist() == [True, False]  # tie -> first label, deterministically


def test_rule_validation() -> None:
    with pytest.raises(ValueError, match="min_confidence"):
        DecisionRule(multi_label=True, min_confidence=2)


def _blobs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centres = np.eye(3, 16, dtype=np.float32)
    X = np.concatenate([c + 0.3 * rng.standard_normal((60, 16)) for c in centres])
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    y = np.repeat(np.arange(3), 60)
    return X, np.eye(3, dtype=bool)[y]


def test_prototype_scorer_prefers_nearest_label() -> None:
    rng = np.random.default_rng(0)
    X, Y = _blobs(rng)
    blocks = [X[Y[:, j]][:5] for j in range(3)]
    scorer = PrototypeScorer(threshold=0.3).fit(blocks, ["a", "b", "c"])
    proba = scorer.predict_proba(X)
    assert (proba.argmax(axis=1) == Y.argmax(axis=1)).mean() > 0.9
    assert ((proba >= 0) & (proba <= 1)).all()


def _unit(*rows: list[float]) -> np.ndarray:
    X = np.asarray(rows, dtype=np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_prototype_confidence_is_relative_to_the_best_label() -> None:
    # 0.5 = within the margin of the best label and above the label's threshold.
    blocks = [_unit([1, 0, 0]), _unit([0, 1, 0]), _unit([0, 0, 1])]
    scorer = PrototypeScorer(threshold=0.2, margin=0.05).fit(blocks, ["a", "b", "c"])
    X = _unit([1.0, 0.97, 0.0], [-1.0, -1.0, 0.1])
    proba = scorer.predict_proba(X)
    rule = DecisionRule(multi_label=True, min_confidence=0.5)
    kept = assign(proba, rule)
    assert kept[0].tolist() == [True, True, False]  # b is within 0.05 of a
    assert not kept[1].any()  # the best label is below the 0.2 threshold: unassigned
    one = assign(proba, DecisionRule(multi_label=False, min_confidence=0.5))
    assert one[0].tolist() == [True, False, False]


def test_counter_examples_push_a_look_alike_down() -> None:
    blocks = [_unit([1, 0.2, 0]), _unit([0, 0, 1])]
    X = _unit([1, 0.25, 0.3])
    plain = PrototypeScorer(threshold=0.1, margin=0.0).fit(blocks, ["api", "other"])
    assert plain.predict_proba(X)[0, 0] >= 0.5  # the best label sits at its bar
    counters = [_unit([1, 0.25, 0.3]), np.zeros((0, 3), np.float32)]
    guarded = PrototypeScorer(threshold=0.1, margin=0.0).fit(blocks, ["api", "other"],
                                                            counter_vectors=counters)
    assert guarded.predict_proba(X)[0, 0] < 0.5
    far = _unit([1, 0.2, 0.0])  # nearer the label's own prototype than its look-alike
    assert guarded.predict_proba(far)[0, 0] == plain.predict_proba(far)[0, 0]


def test_head_fit_save_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X, Y = _blobs(rng)
    head = LinearHead(lexical=False).fit(X, Y, ["a", "b", "c"])
    head.save(tmp_path / "h", {"label_kind": "type"})
    loaded, meta = LinearHead.load(tmp_path / "h")
    assert meta["labels"] == ["a", "b", "c"]
    assert np.array_equal(loaded.predict_proba(X), head.predict_proba(X))
    assert (head.predict_proba(X).argmax(axis=1) == Y.argmax(axis=1)).mean() > 0.95
    # calibrated out-of-fold probabilities: on clean blobs, confident and mostly right
    oof = head.oof_proba_
    assert ((oof > 0.5) == Y).mean() > 0.9
    with np.load(tmp_path / "h" / "head.npz", allow_pickle=False) as data:
        assert set(data.files) == {"coef", "intercept", "platt_a", "platt_b"}


def test_head_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a themer head"):
        LinearHead.load(tmp_path)
    rng = np.random.default_rng(2)
    X, Y = _blobs(rng)
    LinearHead(lexical=False).fit(X, Y, ["a", "b", "c"]).save(tmp_path, {})
    meta = json.loads((tmp_path / "head.json").read_text())
    meta["format"] = "other"
    (tmp_path / "head.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="unknown head format"):
        LinearHead.load(tmp_path)


def test_head_needs_both_classes() -> None:
    X = np.ones((10, 4), dtype=np.float32)
    Y = np.zeros((10, 1), dtype=bool)
    with pytest.raises(ModelError, match="no positive rows"):
        LinearHead(lexical=False).fit(X, Y, ["a"])


def test_per_label_bars_rank_by_ratio_to_bar() -> None:
    proba = np.array([[0.6, 0.3], [0.6, 0.2], [0.1, 0.1]], dtype=np.float32)
    rule = DecisionRule(multi_label=False, label_thresholds=(0.5, 0.2))
    # row 0: 0.6/0.5 = 1.2 < 0.3/0.2 = 1.5 -> the rarer label with the lower bar wins
    assert assign(proba, rule).tolist() == [[False, True], [True, False], [False, False]]
    multi = DecisionRule(multi_label=True, label_thresholds=(0.5, 0.2))
    assert assign(proba, multi).tolist() == [[True, True], [True, True], [False, False]]
    with pytest.raises(ModelError, match="2 label thresholds for 3 labels"):
        assign(np.zeros((1, 3), dtype=np.float32), rule)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.05, 0.95), st.booleans())
def test_equal_bars_decide_like_one_threshold(seed: int, cut: float, multi: bool) -> None:
    proba = np.random.default_rng(seed).random((20, 4)).astype(np.float32)
    one = DecisionRule(multi_label=multi, min_confidence=cut)
    per_label = DecisionRule(multi_label=multi, label_thresholds=(cut,) * 4)
    assert (assign(proba, one) == assign(proba, per_label)).all()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_f1_optimal_thresholds_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    Y = rng.random((40, 2)) < 0.3
    Y[0] = True  # every label has a positive
    proba = np.clip(Y * 0.3 + rng.random((40, 2)) * 0.7, 0, 1).astype(np.float32)
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
    cuts = f1_optimal_thresholds(proba, Y, grid)
    for j in range(2):
        scores = [f1_score(Y[:, j], proba[:, j] >= g, zero_division=0) for g in grid]
        assert f1_score(Y[:, j], proba[:, j] >= cuts[j]) == pytest.approx(max(scores))


def test_rule_for_head_reads_per_label_or_single_cut() -> None:
    rule = DecisionRule(multi_label=False)
    meta = {"labels": ["a", "b"], "threshold": 0.35, "label_thresholds": {"b": 0.2, "a": 0.4}}
    assert rule_for_head(rule, meta).label_thresholds == (0.4, 0.2)
    assert rule_for_head(rule, {**meta, "label_thresholds": None}).min_confidence == 0.35
    with pytest.raises(ModelError, match="every label"):
        rule_for_head(rule, {**meta, "label_thresholds": {"a": 0.4}})


def test_head_learns_per_label_cuts() -> None:
    X, Y = _blobs(np.random.default_rng(1))
    head = LinearHead(lexical=False).fit(X, Y, ["a", "b", "c"])
    assert head.thresholds_.shape == (3,)
    assert ((head.thresholds_ >= 0.05) & (head.thresholds_ <= 0.95)).all()


def test_lexical_head_reads_words_and_round_trips_without_pickle(tmp_path: Path) -> None:
    # Vectors carry no signal here; only the words tell the labels apart.
    words = {"a": "battery drains", "b": "refund please", "c": "crash on start"}
    labels = list(words)
    rng = np.random.default_rng(4)
    y = np.repeat(np.arange(3), 30)
    texts = [f"{words[labels[k]]} {rng.integers(1000)}" for k in y]
    X = rng.standard_normal((90, 8)).astype(np.float32)
    head = LinearHead().fit(X, np.eye(3, dtype=bool)[y], labels, texts)
    assert (head.predict_proba(X, texts).argmax(axis=1) == y).mean() > 0.95
    with pytest.raises(ModelError, match="pass the texts"):
        head.predict_proba(X)
    head.save(tmp_path / "h", {})
    loaded, meta = LinearHead.load(tmp_path / "h")
    assert meta["format"] == "themer.linear_head.v2"
    assert "battery drains" in meta["lexical_terms"]
    assert np.array_equal(loaded.predict_proba(X, texts), head.predict_proba(X, texts))
    with np.load(tmp_path / "h" / "head.npz", allow_pickle=False) as data:
        assert set(data.files) == {"coef", "intercept", "platt_a", "platt_b", "idf"}
    with pytest.raises(ModelError, match="expects"):
        loaded.predict_proba(X[:, :4], texts)
