"""The report's chart geometry and quote picking (pure functions)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from themer.ingest import detect_segments
from themer.report.render import (
    export_charts,
    heatmap,
    impact_bars,
    interval_dots,
    padded_range,
    quadrant_scatter,
    quotes_by_theme,
    trend_line,
)
from themer.report.sections import segment_theme_shares

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


def test_heatmap_shades_from_smallest_to_largest_and_marks_empty_cells() -> None:
    chart = heatmap(["a", "b"], ["x", "y"], [[10.0, 20.0], [None, 15.0]], diverging=False,
                    value_format="{:.0f}%", column_notes={"x": "n=40"})
    cells = {(c["row"], c["column"]): c for c in chart["cells"]}
    assert cells[("a", "x")]["opacity"] < cells[("b", "y")]["opacity"] < cells[("a", "y")][
        "opacity"]
    assert cells[("b", "x")]["text"] == "n/a"
    assert cells[("a", "y")]["text"] == "20%"
    assert chart["columns"][0]["note"] == "n=40"
    long = heatmap(["a"], ["individual contributor"], [[1.0]], diverging=False)
    assert long["columns"][0]["short"] == "individual …"  # cut to fit the cell
    assert long["columns"][0]["label"] == "individual contributor"  # kept for the tooltip
    gaps = heatmap(["f"], ["x", "y"], [[-10.0, 5.0]], diverging=True)
    negative, positive = gaps["cells"]
    assert negative["fill"] != positive["fill"]  # two hues around zero
    assert negative["opacity"] > positive["opacity"]  # further from zero, stronger


@given(st.lists(st.tuples(st.floats(-500, 500), st.floats(-500, 500)), min_size=1,
                max_size=20))
def test_quadrant_points_stay_in_the_plot_and_on_their_side(points: list[tuple[float, float]]
                                                             ) -> None:
    chart = quadrant_scatter([{"label": str(i), "x": x, "y": y} for i, (x, y) in
                              enumerate(points)], x_range=(0, 100), y_range=(-50, 50),
                             x_cut=40, y_cut=10, quadrants=("a", "b", "c", "d"))
    left, top = chart["left"], chart["top"]
    for p in chart["points"]:
        assert left <= p["cx"] <= left + chart["inner_w"]
        assert top <= p["cy"] <= top + chart["inner_h"]
        assert (p["cx"] >= chart["cut_x"]) == p["right"] or p["x"] > 100 or p["x"] < 0
        assert (p["cy"] <= chart["cut_y"]) == p["upper"] or p["y"] > 50 or p["y"] < -50
    assert next(t["value"] for t in chart["x_ticks"]) == 0
    assert padded_range([12.0, 31.0]) == (0.0, 50.0)
    assert padded_range([-95.0, 99.0]) == (-100.0, 100.0)


def test_exported_charts_are_standalone_svg(tmp_path: Path) -> None:
    html = ('<p>x</p><svg class="chart" id="impact-chart" viewBox="0 0 10 10"><rect '
            'fill="#0072B2"/></svg><svg class="chart" id="trend-chart"><circle/></svg>')
    written = export_charts(html, tmp_path / "charts")
    assert [p.name for p in written] == ["impact-chart.svg", "trend-chart.svg"]
    text = written[0].read_text(encoding="utf-8")
    assert text.startswith("<?xml")
    assert 'xmlns="http://www.w3.org/2000/svg"' in text
    assert 'viewBox="0 0 10 10"' in text
    assert text.rstrip().endswith("</svg>")


def test_segment_theme_shares_count_each_groups_respondents() -> None:
    responses = pd.DataFrame({"response_id": ["1", "2", "3", "4", "5"],
                              "segment:plan": ["pro", "pro", "free", "pro", ""]})
    mentions = pd.DataFrame({"theme": ["billing", "billing", "search", "billing"],
                             "position": [0, 2, 2, 4]})
    values, sizes, shares = segment_theme_shares(responses, mentions, "plan",
                                                 ["billing", "search"])
    assert values == ["pro", "free"]
    assert sizes == [3, 1]
    assert shares[0].tolist() == pytest.approx([100 / 3, 100.0])
    assert shares[1].tolist() == [0.0, 100.0]


def test_plain_exports_get_their_segments_and_feature_flags_detected() -> None:
    frame = pd.DataFrame({
        "plan": ["pro", "free", "pro", "free", "team", "pro"],
        "uses_dashboards": ["1", "0", "1", "1", "", "0"],
        "weekly_logins": ["3", "14", "7", "1", "9", "4"],  # a measure, not a segment
        "signup_date": [f"2024-0{i + 1}-01" for i in range(6)],  # all different
        "renewal": ["2025-01-01", "2025-07-01"] * 3,  # few values, but dates
        "note": ["a b c d e f g h", "i", "j", "k", "l", "m"]})
    assert detect_segments(frame) == {"plan": "plan", "feature:dashboards": "uses_dashboards"}
