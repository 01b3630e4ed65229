"""Every issue-5 analysis over 1,000,000 tagged responses x 20 segments (target: < 30 s).

Synthetic data, generated before the clock starts: 1M responses over 12 months, 20 segment
columns (2-8 values), 4 feature flags, 2 behaviour measures, signup cohorts, and ~1.5
statements per response, each with one of 18 areas and one of 7 types (~3M tag rows).

Timed, one after the other, on the same frames: theme table; segments (20 columns, BH); the
themes driving every segment value's gap; adoption gaps + feature x segment heatmap; promoters
vs detractors behaviour; NPS per month, theme trends, spike alerts, change decomposition;
Shapley and regression impact; launch and fix validation; squeaky-wheel flags and priorities;
PMF cohorts and the spread of NPS over all 20 segments.

Baseline measured in the same run: the bare counting no analysis can avoid, one
``pd.crosstab`` of segment value x NPS group per segment column. The ratio printed is
total / baseline.

    python eval/bench/analytics_1m.py [--n 1000000] [--segments 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from themer.analytics.adoption import adoption_table, gap_matrix
from themer.analytics.attribution import (
    drivers_by_segment,
    regression_impact,
    shapley_impact,
    theme_mix,
)
from themer.analytics.behaviour import behaviour_table
from themer.analytics.launch_checks import fix_check, launch_check
from themer.analytics.pmf import cohort_fit, segment_spread
from themer.analytics.priorities import Roadmap, priorities, recovery_counts
from themer.analytics.segments import cohort, segment_table
from themer.analytics.themes import positions, theme_mentions, theme_table
from themer.analytics.trends import change_decomposition, nps_by_period, spike_alerts, theme_trends
from themer.taxonomy import REQUIRED_TYPES

AREAS = [f"area{k:02d}" for k in range(18)]


def synthetic(n: int, segments: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    categories = np.array(["promoter", "passive", "detractor"])
    ids = pd.Series(np.arange(n)).map("r{:07d}".format)
    days = rng.integers(0, 365, n)
    # The category is categorical, as themer.ingest.load_responses returns it.
    responses = pd.DataFrame({
        "response_id": ids, "category": pd.Categorical(
            categories[rng.choice(3, n, p=[0.45, 0.3, 0.25])], categories=list(categories)),
        "survey_type": "relationship",
        "date": (pd.Timestamp("2025-01-01") + pd.to_timedelta(days, unit="D")).strftime(
            "%Y-%m-%d"),
    })
    for s in range(segments):
        values = np.array([f"v{k}" for k in range(2 + s % 7)])
        responses[f"segment:s{s}"] = values[rng.integers(0, len(values), n)]
    for f in range(4):
        responses[f"segment:feature:f{f}"] = np.where(rng.random(n) < 0.2 + 0.15 * f, "1", "0")
    responses["segment:measure:logins"] = rng.poisson(3, n).astype(str)
    responses["segment:measure:days_to_value"] = rng.integers(1, 60, n).astype(str)
    signup = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    responses["segment:cohort"] = cohort(pd.Series(signup.strftime("%Y-%m-%d")), "quarter")
    statements = rng.choice([0, 1, 2, 3], n, p=[0.15, 0.35, 0.35, 0.15])
    owner = np.repeat(np.arange(n), statements)
    order = np.arange(len(owner)) - np.repeat(np.cumsum(statements) - statements, statements)
    statement_id = ids.to_numpy()[owner] + ":reason:" + order.astype(str)
    areas = np.array(AREAS)[rng.integers(0, len(AREAS), len(owner))]
    kinds = np.array(REQUIRED_TYPES)[rng.integers(0, len(REQUIRED_TYPES), len(owner))]
    question = np.where(order == 2, "improve", "reason")
    half = pd.DataFrame({"response_id": ids.to_numpy()[owner], "statement_id": statement_id,
                         "question": question})
    tags = pd.concat([half.assign(kind="area", label=areas),
                      half.assign(kind="type", label=kinds)], ignore_index=True)
    return responses, tags


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    responses, tags = synthetic(args.n, args.segments)
    print(f"generated {len(responses):,} responses, {len(tags):,} tag rows in "
          f"{time.perf_counter() - started:.1f} s (not timed)")
    names = [f"s{s}" for s in range(args.segments)]

    started = time.perf_counter()
    for name in names:
        pd.crosstab(responses[f"segment:{name}"], responses["category"])
    baseline = time.perf_counter() - started

    timings: dict[str, float] = {}

    def timed(label: str, work: Callable[[], Any]) -> Any:
        clock = time.perf_counter()
        result = work()
        timings[label] = time.perf_counter() - clock
        return result

    every = timed("theme mentions (once)", lambda: theme_mentions(tags, None, responses))
    mentions = every[every["kind"] == "area"]
    table = timed("theme table", lambda: theme_table(responses, tags, mentions=every))
    segs = timed("segments (20 columns)", lambda: segment_table(responses, names))
    drivers = timed("gap drivers (every value)", lambda: drivers_by_segment(
        responses, mentions, {name: responses[f"segment:{name}"] for name in names}))
    timed("adoption + heatmap", lambda: (adoption_table(responses),
                                          gap_matrix(responses, "s0")))
    timed("behaviour", lambda: behaviour_table(responses, {
        "logins": responses["segment:measure:logins"],
        "days_to_value": responses["segment:measure:days_to_value"]}))
    trends = timed("trends: NPS + themes", lambda: (nps_by_period(responses),
                                                    theme_trends(responses, mentions)))
    timed("spike alerts", lambda: spike_alerts(trends[1]))
    timed("change decomposition", lambda: change_decomposition(responses, mentions))
    timed("Shapley impact", lambda: shapley_impact(theme_mix(responses, mentions)))
    timed("regression impact", lambda: regression_impact(responses, mentions))
    said = positions(tags["response_id"], responses["response_id"])
    commenters = pd.Series(np.bincount(said[said >= 0], minlength=len(responses)) > 0)
    timed("launch + fix validation", lambda: (
        launch_check(responses, date(2025, 6, 1), window_days=30,
                     where=responses["segment:feature:f1"] == "1"),
        fix_check(responses, commenters, mentions, "area03", date(2025, 7, 1))))
    timed("priorities", lambda: priorities(
        table, Roadmap(effort=dict.fromkeys(AREAS[:9], "S")),
        recovery=recovery_counts(tags, responses, "improve")))
    timed("PMF cohorts + spread", lambda: (cohort_fit(responses),
                                           [segment_spread(responses, s) for s in names]))
    total = sum(timings.values())
    width = max(map(len, timings))
    for label, seconds in timings.items():
        print(f"  {label:<{width}}  {seconds:6.2f} s")
    print(f"all analyses: {args.n:,} responses x {args.segments} segments "
          f"({len(segs.rows)} segment values, {sum(map(len, drivers.values()))} driver tables, "
          f"{len(table.themes)} theme rows): {total:.2f} s (target < 30 s)")
    print(f"baseline (crosstab counts only): {baseline:.2f} s; ratio {total / baseline:.1f}")


if __name__ == "__main__":
    main()
