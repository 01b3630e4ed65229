from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from themer.classify import DecisionRule, LinearHead, PrototypeScorer, assign
from themer.errors import ModelError


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


def test_head_fit_save_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X, Y = _blobs(rng)
    head = LinearHead().fit(X, Y, ["a", "b", "c"])
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
    LinearHead().fit(X, Y, ["a", "b", "c"]).save(tmp_path, {})
    meta = json.loads((tmp_path / "head.json").read_text())
    meta["format"] = "other"
    (tmp_path / "head.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="unknown head format"):
        LinearHead.load(tmp_path)


def test_head_needs_both_classes() -> None:
    X = np.ones((10, 4), dtype=np.float32)
    Y = np.zeros((10, 1), dtype=bool)
    with pytest.raises(ModelError, match="no positive rows"):
        LinearHead().fit(X, Y, ["a"])
