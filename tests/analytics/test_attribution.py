from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from themer.analytics.attribution import (
    NO_THEME,
    decompose,
    gap_drivers,
    regression_impact,
    segment_drivers,
    shapley_impact,
    theme_mix,
)
from themer.analytics.segments import segment_table
from themer.errors import StatsError

CATEGORY = {1: "promoter", 0: "passive", -1: "detractor"}
THEMES = ["a", "b", "c", "d"]


def _data(rows: list[tuple[int, list[str]]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """rows: (value +1/0/-1, themes) -> (responses, mentions)."""
    responses = pd.DataFrame({"response_id": [f"r{i}" for i in range(len(rows))],
                              "category": [CATEGORY[v] for v, _ in rows]})
    mentions = pd.DataFrame([(f"r{i}", t) for i, (_, themes) in enumerate(rows)
                             for t in themes], columns=["response_id", "theme"])
    return responses, mentions


HAND = [(-1, ["a", "b"]), (-1, ["a"]), (1, ["b"]), (0, []), (1, []), (1, ["c"])]


def test_theme_mix_hand_case() -> None:
    responses, mentions = _data(HAND)
    mix = theme_mix(responses, mentions).set_index("theme")
    # a: r0 half (-0.5), r1 whole (-1): weight 1.5, score 100 * -1.5 / 1.5 = -100
    assert mix.loc["a", "weight"] == pytest.approx(1.5)
    assert mix.loc["a", "score"] == pytest.approx(-100.0)
    assert mix.loc["a", "n"] == 2
    # b: r0 half (-0.5), r2 whole (+1): weight 1.5, score 100 * 0.5 / 1.5
    assert mix.loc["b", "score"] == pytest.approx(100 / 3)
    assert mix.loc[NO_THEME, "share"] == pytest.approx(2 / 6)
    assert mix.loc[NO_THEME, "score"] == pytest.approx(50.0)
    assert mix["share"].sum() == pytest.approx(1.0)
    # NPS = (3 promoters - 2 detractors) / 6
    assert (mix["share"] * mix["score"]).sum() == pytest.approx(100 / 6)


def test_shapley_hand_case_matches_brute_force() -> None:
    responses, mentions = _data(HAND)
    table = shapley_impact(theme_mix(responses, mentions)).set_index("theme")
    # Baseline: no-theme respondents score +50 (value 0.5). a: r0 gives (-1 - .5)/2, r1 -1.5.
    assert table.loc["a", "contribution"] == pytest.approx(100 * (-0.75 - 1.5) / 6)
    assert table.attrs["total"] == pytest.approx(100 / 6 - 50.0)
    assert table["contribution"].sum() == pytest.approx(table.attrs["total"])
    brute = _brute_force_shapley(HAND)
    for theme, value in brute.items():
        assert table.loc[theme, "contribution"] == pytest.approx(value)


def _brute_force_shapley(rows: list[tuple[int, list[str]]]) -> dict[str, float]:
    """Shapley values by enumerating coalitions of v(S) = NPS - NPS(S-mentioners at baseline)."""
    silent = [v for v, themes in rows if not themes]
    baseline = sum(silent) / len(silent)
    players = sorted({t for _, themes in rows for t in themes})

    def worth(coalition: set[str]) -> float:
        return 100 / len(rows) * sum(v - baseline for v, themes in rows
                                     if coalition & set(themes))

    values = dict.fromkeys(players, 0.0)
    k = len(players)
    for player in players:
        others = [p for p in players if p != player]
        for size in range(k):
            for subset in itertools.combinations(others, size):
                weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
                values[player] += weight * (worth({*subset, player}) - worth(set(subset)))
    return values


rows_strategy = st.lists(
    st.tuples(st.sampled_from([-1, 0, 1]), st.lists(st.sampled_from(THEMES), unique=True,
                                                    max_size=3)),
    min_size=2, max_size=40)


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_shapley_adds_up_and_equals_brute_force(rows: list[tuple[int, list[str]]]) -> None:
    rows = [*rows, (0, [])]  # at least one respondent names nothing (the baseline)
    responses, mentions = _data(rows)
    if mentions.empty:
        return
    table = shapley_impact(theme_mix(responses, mentions))
    nps = 100 * sum(v for v, _ in rows) / len(rows)
    assert table["contribution"].sum() == pytest.approx(table.attrs["total"], abs=1e-9)
    assert table.attrs["nps"] == pytest.approx(nps)
    brute = _brute_force_shapley(rows)
    for theme, contribution in zip(table["theme"], table["contribution"], strict=True):
        assert contribution == pytest.approx(brute[theme], abs=1e-9)


def test_shapley_needs_a_baseline() -> None:
    responses, mentions = _data([(1, ["a"]), (-1, ["b"])])
    with pytest.raises(StatsError, match="baseline"):
        shapley_impact(theme_mix(responses, mentions))


groups_strategy = st.lists(st.tuples(st.sampled_from([-1, 0, 1]),
                                     st.lists(st.sampled_from(THEMES), unique=True, max_size=3),
                                     st.booleans()), min_size=2, max_size=60)


@settings(max_examples=80, deadline=None)
@given(groups_strategy)
def test_decomposition_adds_up_and_flips_sign(rows: list[tuple[int, list[str], bool]]) -> None:
    inside = pd.Series([flag for _, _, flag in rows])
    if inside.all() or not inside.any():
        return
    responses, mentions = _data([(v, themes) for v, themes, _ in rows])
    drivers = gap_drivers(responses, mentions, inside)
    values = np.array([v for v, _, _ in rows], dtype=float)
    gap = 100 * (values[inside.to_numpy()].mean() - values[~inside.to_numpy()].mean())
    assert drivers["total"].sum() == pytest.approx(gap, abs=1e-9)
    assert drivers.attrs["change"] == pytest.approx(gap, abs=1e-9)
    assert (drivers["share_effect"] + drivers["score_effect"]).sum() == pytest.approx(gap,
                                                                                      abs=1e-9)
    swapped = gap_drivers(responses, mentions, ~inside).set_index("theme")
    for theme, total in zip(drivers["theme"], drivers["total"], strict=True):
        assert swapped.loc[theme, "total"] == pytest.approx(-total, abs=1e-9)


def test_decomposition_hand_case() -> None:
    # Before: 2 respondents, a (-1) and nothing (+1) -> NPS 0.
    # After: 4 respondents, a (-1), a (-1), nothing (+1), nothing (+1) -> NPS 0 as well,
    # and each theme's share and score are unchanged: every effect is zero.
    before = theme_mix(*_data([(-1, ["a"]), (1, [])]))
    after = theme_mix(*_data([(-1, ["a"]), (-1, ["a"]), (1, []), (1, [])]))
    table = decompose(before, after)
    assert table["total"].abs().max() == pytest.approx(0.0)
    # After': a's share rises from 1/2 to 3/4 at score -100: share effect
    # (3/4 - 1/2) x (-100 - (0 + -50) / 2) = -18.75; no-theme share falls by 1/4 at +100:
    # (-1/4) x (100 + 25) = -31.25; total -50 = NPS(after') - NPS(before).
    after2 = theme_mix(*_data([(-1, ["a"]), (-1, ["a"]), (-1, ["a"]), (1, [])]))
    table = decompose(before, after2).set_index("theme")
    assert table.loc["a", "share_effect"] == pytest.approx(-18.75)
    assert table.loc[NO_THEME, "share_effect"] == pytest.approx(-31.25)
    assert table["score_effect"].abs().max() == pytest.approx(0.0)
    assert table.attrs["change"] == pytest.approx(-50.0)


def test_decomposition_theme_new_in_one_group() -> None:
    before = theme_mix(*_data([(1, []), (0, [])]))
    after = theme_mix(*_data([(1, []), (-1, ["new"])]))
    table = decompose(before, after).set_index("theme")
    assert table.loc["new", "score_effect"] == 0.0  # absent before: its change is all share
    assert table["total"].sum() == pytest.approx(table.attrs["change"]) == pytest.approx(-50.0)


@settings(max_examples=40, deadline=None)
@given(rows_strategy)
def test_regression_contributions_add_up(rows: list[tuple[int, list[str]]]) -> None:
    rows = [*rows, (0, []), (1, []), (-1, ["a"]), (1, ["b"])]
    responses, mentions = _data(rows)
    result = regression_impact(responses, mentions)
    nps = 100 * sum(v for v, _ in rows) / len(rows)
    assert sum(r.contribution for r in result.rows) == pytest.approx(nps - result.intercept,
                                                                     abs=1e-6)


def test_regression_recovers_additive_effects() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    has_a, has_b = rng.random(n) < 0.3, rng.random(n) < 0.5
    # value = 0.2 baseline, a costs 0.8, b adds nothing; noise by drawing categories
    mean = 0.2 - 0.8 * has_a
    values = np.where(rng.random(n) < np.abs(mean), np.sign(mean), 0).astype(int)
    rows = [(int(v), [t for t, flag in (("a", fa), ("b", fb)) if flag])
            for v, fa, fb in zip(values, has_a, has_b, strict=True)]
    result = regression_impact(*_data(rows))
    by_theme = {r.theme: r for r in result.rows}
    assert result.intercept == pytest.approx(20, abs=4)
    assert by_theme["a"].effect == pytest.approx(-80, abs=6)
    assert by_theme["a"].effect_ci_low < -80 < by_theme["a"].effect_ci_high
    assert by_theme["b"].effect_ci_low < 0 < by_theme["b"].effect_ci_high
    assert by_theme["b"].p_value > 0.01


def test_regression_merges_themes_always_named_together() -> None:
    rows = [(-1, ["a", "b"]), (-1, ["a", "b"]), (1, []), (0, ["c"]), (1, ["c"]), (0, []),
            (1, ["all"]), (1, ["all", "a", "b"]), (0, ["all"])]
    rows = [(v, themes if "all" in themes else [*themes, "all"]) for v, themes in rows]
    result = regression_impact(*_data(rows))
    assert result.merged == ["a+b"]
    assert result.left_out == ["all"]  # everybody names it: no contrast to estimate from
    assert {r.theme for r in result.rows} == {"a+b", "c"}


def test_theme_mix_rejects_unknown_categories() -> None:
    with pytest.raises(StatsError, match="category"):
        theme_mix(pd.DataFrame({"response_id": ["r1"], "category": ["fan"]}),
                  pd.DataFrame(columns=["response_id", "theme"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([-1, 0, 1]),
                          st.lists(st.sampled_from(THEMES), unique=True, max_size=2),
                          st.sampled_from(["x", "y", "z", ""])), min_size=3, max_size=50))
def test_segment_drivers_add_up_to_the_segment_table(rows: list[tuple[int, list[str], str]]
                                                     ) -> None:
    responses, mentions = _data([(v, themes) for v, themes, _ in rows])
    responses["segment:s"] = [value for _, _, value in rows]
    if responses["segment:s"].replace("", None).nunique() < 2:
        return
    table = segment_table(responses, min_n=1)
    drivers = segment_drivers(responses, mentions, responses["segment:s"])
    assert set(drivers) == {r.value for r in table.rows}
    for row in table.rows:
        assert drivers[row.value]["total"].sum() == pytest.approx(row.diff, abs=1e-9)
