"""The report's chart geometry and quote picking (pure functions)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from themer.report import impact_bars, interval_dots, quotes_by_theme, trend_line

ROWS = [{"theme": "a", "impact": -4.0, "nps": -30.0, "ci_low": -50.0, "ci_high": -10.0,
         "small_n": False},
        {"theme": "b", "impact": 2.0, "nps": 40.0, "ci_low": 20.0, "ci_high": 60.0,
         "small_n": True},
        {"theme": "c", "impact": -1.0, "nps": 5.0, "ci_low": -120.0, "ci_high": 30.0,
         "small_n": False}]


def test_impact_bars_are_proportional_and_sided() -> None:
    chart = impact_bars(ROWS)
    bars = {b["theme"]: b for b in chart["bars"]}
    assert [b["theme"] for b in chart["bars"]] == ["a", "c", "b"]  # most costly first
    assert bars["a"]["x"] + bars["a"]["width"] == chart["zero"]  # ends at zero, goes left
    assert bars["b"]["x"] == chart["zero"]
    assert bars["a"]["width"] == 2 * bars["b"]["width"] == 4 * bars["c"]["width"]


@given(st.lists(st.floats(-100, 100), min_size=1, max_size=30))
def test_interval_dots_stay_inside_the_chart(values: list[float]) -> None:
    rows = [{"theme": f"t{i}", "nps": v, "ci_low": v - 30, "ci_high": v + 30, "small_n": False}
            for i, v in enumerate(values)]
    chart = interval_dots(rows, overall=0.0)
    for dot in chart["dots"]:
        assert 0 <= dot["x_low"] <= dot["x"] <= dot["x_high"] <= chart["width"]
        assert 0 <= dot["y"] <= chart["height"]


def test_trend_needs_two_periods_and_spans_the_intervals() -> None:
    one = [{"period": "2025-01", "n": 40, "nps": 10.0, "ci_low": 0.0, "ci_high": 20.0,
            "small_n": False}]
    assert trend_line(one) is None
    two = [*one, {"period": "2025-02", "n": 10, "nps": -20.0, "ci_low": -60.0, "ci_high": 20.0,
                  "small_n": True}]
    chart = trend_line(two)
    assert chart is not None
    ys = [p["y"] for p in chart["points"]]
    assert ys[0] < ys[1]  # higher NPS is drawn higher
    assert all(0 <= y <= chart["height"] for y in ys)
    assert any(t["value"] == 0 for t in chart["ticks"])


def test_quotes_pick_confident_detractors_and_promoters_without_repeats() -> None:
    tags = pd.DataFrame({
        "response_id": ["1", "2", "3", "4", "5"],
        "statement_id": ["1#0", "2#0", "3#0", "4#0", "5#0"],
        "kind": "area", "label": ["billing", "billing", "billing", "billing", "unassigned"],
        "statement": ["Too pricey.", "too pricey. ", "Invoices are wrong.", "Fair price.", "x"],
        "confidence": [0.9, 0.95, 0.7, 0.8, 0.9]})
    responses = pd.DataFrame({"response_id": ["1", "2", "3", "4", "5"],
                              "category": ["detractor", "detractor", "detractor", "promoter",
                                           "detractor"]})
    quotes = quotes_by_theme(tags, responses)
    assert list(quotes) == ["billing"]  # unassigned is not a theme
    assert quotes["billing"] == [{"group": "detractor", "text": "too pricey. "},
                                 {"group": "detractor", "text": "Invoices are wrong."},
                                 {"group": "promoter", "text": "Fair price."}]
