from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from themer.analytics.nps import (
    category_of,
    impact,
    nps,
    nps_and_variance,
    nps_ci,
    nps_interval,
    nps_se,
    points_at_stake,
    summarize,
)
from themer.errors import EmptyGroupError, StatsError

votes = st.lists(st.integers(0, 10), min_size=1, max_size=300)


def counts(scores: list[int]) -> tuple[int, int, int]:
    cats = [category_of(s) for s in scores]
    return cats.count("promoter"), cats.count("passive"), cats.count("detractor")


@pytest.mark.parametrize(
    ("p", "m", "d", "expected"),
    [(1, 0, 0, 100.0), (0, 0, 1, -100.0), (0, 5, 0, 0.0), (50, 30, 20, 30.0), (3, 1, 6, -30.0)],
)
def test_nps_hand_cases(p: int, m: int, d: int, expected: float) -> None:
    assert nps(p, m, d) == pytest.approx(expected)


def test_se_hand_case() -> None:
    # p = .5, d = .2 -> var = .7 - .09 = .61 ; n = 100 -> SE = 100 * sqrt(.0061)
    assert nps_se(50, 30, 20) == pytest.approx(100 * math.sqrt(0.61 / 100))
    low, high = nps_ci(50, 30, 20)
    assert low == pytest.approx(30 - 1.959964 * 7.8102, abs=1e-3)
    assert high == pytest.approx(30 + 1.959964 * 7.8102, abs=1e-3)


def test_categories_boundaries() -> None:
    assert [category_of(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor", "detractor", "passive", "passive", "promoter", "promoter"]
    with pytest.raises(StatsError):
        category_of(11)


def test_empty_groups_raise() -> None:
    with pytest.raises(EmptyGroupError):
        nps(0, 0, 0)
    with pytest.raises(EmptyGroupError):
        nps_se(0, 0, 0)
    with pytest.raises(EmptyGroupError):
        points_at_stake(0, 0)


@given(votes)
def test_nps_bounds_and_ci_contains_point(scores: list[int]) -> None:
    p, m, d = counts(scores)
    value = nps(p, m, d)
    low, high = nps_ci(p, m, d)
    assert -100 <= low <= value <= high <= 100
    assert nps_se(p, m, d) >= 0


@given(votes, votes)
def test_impact_equals_leave_out_definition(theme: list[int], rest: list[int]) -> None:
    t, r = counts(theme), counts(rest)
    total = tuple(a + b for a, b in zip(t, r, strict=True))
    share = len(theme) / (len(theme) + len(rest))
    assert impact(t, total) == pytest.approx(nps(*total) - nps(*r))
    assert impact(t, total) == pytest.approx(share * (nps(*t) - nps(*r)), abs=1e-9)


@given(votes, st.integers(1, 50))
def test_passives_change_n_not_p_minus_d(scores: list[int], extra: int) -> None:
    p, m, d = counts(scores)
    before, after = nps(p, m, d), nps(p, m + extra, d)
    assert before * (p + m + d) == pytest.approx(after * (p + m + d + extra))
    assert abs(after) <= abs(before) + 1e-9


@given(votes)
def test_points_at_stake_is_gain_when_detractors_become_passives(scores: list[int]) -> None:
    p, m, d = counts(scores)
    gain = nps(p, m + d, 0) - nps(p, m, d)
    assert points_at_stake(d, p + m + d) == pytest.approx(gain)


@given(votes)
def test_summary_matches_functions(scores: list[int]) -> None:
    summary = summarize(category_of(s) for s in scores)
    p, m, d = counts(scores)
    assert (summary.n, summary.promoters, summary.passives, summary.detractors) == (
        len(scores), p, m, d)
    assert summary.nps == pytest.approx(nps(p, m, d))


def test_impact_everyone_mentions_is_zero() -> None:
    assert impact((3, 2, 1), (3, 2, 1)) == 0.0
    with pytest.raises(StatsError):
        impact((4, 0, 0), (3, 2, 1))


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
                .filter(lambda c: sum(c) > 0), min_size=1, max_size=10))
def test_vectorised_nps_matches_the_scalar_functions(groups: list[tuple[int, int, int]]) -> None:
    score, variance = nps_and_variance(np.asarray(groups))
    for i, group in enumerate(groups):
        assert score[i] == pytest.approx(nps(*group))
        assert np.sqrt(variance[i]) == pytest.approx(nps_se(*group), abs=1e-9)
    low, high = nps_interval(score, variance)
    for i, group in enumerate(groups):
        assert (low[i], high[i]) == pytest.approx(nps_ci(*group), abs=1e-9)
