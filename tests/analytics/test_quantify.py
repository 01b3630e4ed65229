from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from themer.analytics.quantify import (
    ErrorCounts,
    adjusted_share,
    error_counts,
    mixture_estimate,
    pool_estimates,
    quantify,
    raw_estimate,
)
from themer.errors import StatsError

row = st.tuples(st.integers(0, 200), st.integers(0, 200), st.integers(0, 200))
cells_st = st.tuples(row, row).map(np.array).filter(lambda c: c.sum() > 0)
counts_st = st.builds(ErrorCounts, st.integers(0, 300), st.integers(0, 300),
                      st.integers(0, 300), st.integers(0, 300))
rate = st.floats(0.0, 1.0, allow_nan=False)


@given(cells_st)
@settings(max_examples=60, deadline=None)
def test_perfect_classifier_gives_the_raw_numbers(cells: np.ndarray) -> None:
    # tpr = 1, fpr = 0 exactly: the adjusted count is the raw count.
    theta, score = mixture_estimate(cells, 1.0, 0.0)
    raw = raw_estimate(cells)
    assert float(theta) == pytest.approx(raw.frequency)
    if raw.nps is None:
        assert np.isnan(score)
    else:
        assert float(score) == pytest.approx(raw.nps)


@given(cells_st, counts_st)
@settings(max_examples=60, deadline=None)
def test_bounds_and_intervals_hold_the_estimate(cells: np.ndarray, counts: ErrorCounts) -> None:
    est = quantify(cells, counts, draws=100)
    assert 0.0 <= est.freq_low <= est.frequency <= est.freq_high <= 1.0
    if est.nps is not None:
        assert est.nps_low is not None
        assert est.nps_high is not None
        assert -100.0 <= est.nps_low <= est.nps <= est.nps_high <= 100.0
    assert est.estimate in ("adjusted", "raw")
    assert (est.estimate == "raw") == bool(est.note) or est.nps is None


@given(cells_st, counts_st)
@settings(max_examples=30, deadline=None)
def test_deterministic(cells: np.ndarray, counts: ErrorCounts) -> None:
    assert quantify(cells, counts, draws=50) == quantify(cells, counts, draws=50)


@given(rate, rate, st.floats(0.0, 0.4), st.floats(0.6, 1.0))
def test_adjusted_share_is_monotone(q1: float, q2: float, fpr: float, tpr: float) -> None:
    low, high = sorted((q1, q2))
    assert adjusted_share(low, tpr, fpr) <= adjusted_share(high, tpr, fpr)
    # more false positives believed -> fewer true positives estimated
    assert adjusted_share(high, tpr, fpr) <= adjusted_share(high, tpr, fpr / 2) + 1e-12


@given(st.floats(0.0, 1.0), st.floats(0.0, 0.4), st.floats(0.6, 1.0))
def test_adjusted_share_inverts_the_expected_count(theta: float, fpr: float, tpr: float) -> None:
    q = tpr * theta + fpr * (1 - theta)
    assert float(adjusted_share(q, tpr, fpr)) == pytest.approx(theta, abs=1e-9)


def test_weak_classifier_is_refused_with_the_reason() -> None:
    cells = np.array([[100, 100, 100], [30, 30, 40]])
    est = quantify(cells, ErrorCounts(tp=55, fp=45, fn=45, tn=55))
    assert est.estimate == "raw"
    assert "too weak" in est.note
    assert quantify(cells, None).note == "no measured error rates for this label"


def simulate(rng: np.random.Generator, n: int, theta: float, tpr: float, fpr: float,
             theme_p: tuple[float, float, float], rest_p: tuple[float, float, float]
             ) -> tuple[np.ndarray, ErrorCounts, float, float]:
    """Respondents with a known theme and a biased classifier; (cells, counts, truth)."""
    truth = rng.random(n) < theta
    group = np.where(truth, rng.choice(3, n, p=theme_p), rng.choice(3, n, p=rest_p))
    tagged = np.where(truth, rng.random(n) < tpr, rng.random(n) < fpr)
    cells = np.zeros((2, 3), dtype=np.int64)
    np.add.at(cells, (tagged.astype(int), group), 1)
    # error rates measured on an independent labelled sample of 600 rows
    gold = rng.random(600) < 0.3
    pred = np.where(gold, rng.random(600) < tpr, rng.random(600) < fpr)
    counts = error_counts(gold[:, None], pred[:, None], ["x"])["x"]
    true_nps = 100 * float((group[truth] == 0).mean() - (group[truth] == 2).mean())
    return cells, counts, float(truth.mean()), true_nps


def test_corrected_is_closer_to_truth_than_raw_on_average() -> None:
    rng = np.random.default_rng(7)
    raw_f, cor_f, raw_n, cor_n, covered = [], [], [], [], 0
    for _ in range(40):
        cells, counts, theta, true_nps = simulate(
            rng, 3000, 0.1, tpr=0.75, fpr=0.06, theme_p=(0.1, 0.2, 0.7),
            rest_p=(0.5, 0.3, 0.2))
        raw, est = raw_estimate(cells), quantify(cells, counts, draws=200)
        assert est.estimate == "adjusted"
        assert est.nps is not None
        assert raw.nps is not None
        raw_f.append(abs(raw.frequency - theta))
        cor_f.append(abs(est.frequency - theta))
        raw_n.append(abs(raw.nps - true_nps))
        cor_n.append(abs(est.nps - true_nps))
        assert est.nps_low is not None
        assert est.nps_high is not None
        covered += est.nps_low <= true_nps <= est.nps_high and \
            est.freq_low <= theta <= est.freq_high
    assert np.mean(cor_f) < np.mean(raw_f) / 2
    assert np.mean(cor_n) < np.mean(raw_n) / 2
    assert covered >= 34  # about 95% nominal on both at once


def test_error_counts_match_a_hand_count() -> None:
    gold = np.array([[1, 0], [1, 1], [0, 0], [0, 1], [1, 0]], dtype=bool)
    pred = np.array([[1, 0], [0, 1], [1, 0], [0, 0], [1, 1]], dtype=bool)
    counts = error_counts(gold, pred, ["a", "b"])
    assert counts["a"] == ErrorCounts(tp=2, fp=1, fn=1, tn=1)
    assert counts["b"] == ErrorCounts(tp=1, fp=1, fn=1, tn=2)
    assert ErrorCounts.from_dict(counts["a"].to_dict()) == counts["a"]
    with pytest.raises(StatsError):
        error_counts(gold, pred[:, :1], ["a", "b"])
    with pytest.raises(StatsError):
        ErrorCounts(-1, 0, 0, 0)


def test_everyone_truly_holds_the_theme() -> None:
    cells = np.array([[0, 0, 0], [50, 30, 20]])
    est = quantify(cells, ErrorCounts(90, 10, 10, 90))
    assert est.frequency == 1.0
    assert est.nps == pytest.approx(30.0)


def test_pool_estimates_weights_parts() -> None:
    freq, score = pool_estimates([100, 300], [0.2, 0.4], [10.0, np.nan])
    assert float(freq) == pytest.approx(0.35)
    assert float(score) == pytest.approx(10.0)
    freq, score = pool_estimates([1, 1], np.array([[0.1, 0.3], [0.3, 0.1]]),
                                 np.array([[0.0, 20.0], [20.0, 0.0]]))
    assert freq.tolist() == pytest.approx([0.2, 0.2])
    assert score.tolist() == pytest.approx([15.0, 15.0])


def test_bad_cells_are_refused() -> None:
    with pytest.raises(StatsError):
        quantify(np.zeros((2, 3)), None)
    with pytest.raises(StatsError):
        quantify(np.ones((3, 3)), None)


@given(cells_st, counts_st, counts_st, counts_st)
@settings(max_examples=40, deadline=None)
def test_grouped_estimate_bounds_and_perfect_classifier(cells: np.ndarray, a: ErrorCounts,
                                                       b: ErrorCounts, c: ErrorCounts) -> None:
    from themer.analytics.quantify import grouped_estimate, quantify_grouped

    theta, score = grouped_estimate(cells, np.ones(3), np.zeros(3))
    raw = raw_estimate(cells)
    assert float(theta) == pytest.approx(raw.frequency)
    if raw.nps is not None:
        assert float(score) == pytest.approx(raw.nps)
    est = quantify_grouped(cells, [a, b, c], draws=50)
    assert 0.0 <= est.freq_low <= est.frequency <= est.freq_high <= 1.0
    if est.nps is not None:
        assert est.nps_low is not None
        assert est.nps_high is not None
        assert -100.0 <= est.nps_low <= est.nps <= est.nps_high <= 100.0
    assert est == quantify_grouped(cells, [a, b, c], draws=50)
