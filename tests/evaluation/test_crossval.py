from __future__ import annotations

import numpy as np
import pytest

from themer.errors import InputFileError
from themer.evaluation.crossval import baseline_majority, cv_folds, predict_cv
from themer.nlp.classify import DecisionRule


def test_cv_never_trains_on_its_test_fold() -> None:
    rng = np.random.default_rng(0)
    gold = np.eye(2, dtype=bool)[np.repeat([0, 1], 20)]
    vectors = (gold.astype(np.float32) + 0.3 * rng.standard_normal((40, 2))).astype(np.float32)
    seen: list[tuple[set[int], set[int]]] = []
    result = predict_cv(vectors, gold, ["x", "y"], DecisionRule(multi_label=False), 4,
                        on_fold=lambda tr, te: seen.append((set(tr), set(te))))
    assert len(seen) == 4
    assert all(not (train & test) for train, test in seen)
    assert set().union(*(test for _, test in seen)) == set(range(40))
    assert (result.predicted.argmax(axis=1) == gold.argmax(axis=1)).mean() > 0.8
    with pytest.raises(InputFileError, match="at least 100 labelled rows"):
        cv_folds(gold, 50)


def test_cv_folds_spread_a_rare_label_that_never_comes_first() -> None:
    # label 2 appears only next to label 0: first-label stratification would ignore it
    gold = np.zeros((60, 4), dtype=bool)
    gold[:40, 0] = True
    gold[40:, 1] = True
    gold[:10, 2] = True
    gold[[50, 51], 3] = True  # a stratum smaller than K is pooled, not refused
    folds = cv_folds(gold, 5)
    for _, test in folds:
        assert gold[test, 2].sum() == 2
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(60))
    with pytest.raises(InputFileError, match="K >= 2"):
        cv_folds(gold, 1)


def test_majority_baseline_uses_training_folds_only() -> None:
    gold = np.eye(2, dtype=bool)[[0, 0, 0, 1, 0, 0, 0, 1]]
    folds = [(np.arange(4, 8), np.arange(0, 4)), (np.arange(0, 4), np.arange(4, 8))]
    result = baseline_majority(gold, ["a", "b"], DecisionRule(multi_label=False), folds)
    assert result.predicted[:, 0].all()
    assert result.proba[0].tolist() == [0.75, 0.25]
