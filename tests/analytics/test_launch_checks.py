from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from themer.analytics.launch_checks import fix_check, launch_check, window_masks
from themer.analytics.segments import nps_difference
from themer.errors import InputFileError, hint


def _responses(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """rows: (date, category, uses_x)."""
    return pd.DataFrame({"response_id": [f"r{i}" for i in range(len(rows))],
                         "date": [r[0] for r in rows], "category": [r[1] for r in rows],
                         "uses_x": [r[2] for r in rows]})


LAUNCH = date(2025, 6, 1)
ROWS = ([("2025-05-20", "detractor", "1")] * 3 + [("2025-05-25", "promoter", "1")] * 2
        + [("2025-05-31", "passive", "0")] * 4   # not users: left out by the filter
        + [("2025-06-01", "promoter", "1")] * 4 + [("2025-06-20", "detractor", "1")]
        + [("2025-04-01", "detractor", "1")] * 5  # before the 30-day window
        + [("2025-07-15", "promoter", "1")] * 5)  # after it


def test_window_edges() -> None:
    before, after = window_masks(_responses(ROWS), LAUNCH, 30)
    responses = _responses(ROWS)
    assert responses.loc[before, "date"].min() == "2025-05-20"
    assert responses.loc[after, "date"].tolist().count("2025-06-01") == 4  # launch day = after
    assert "2025-07-15" not in responses.loc[after, "date"].tolist()  # 44 days later
    with pytest.raises(InputFileError, match="at least 1 day"):
        window_masks(responses, LAUNCH, 0)


def test_launch_check_hand_case() -> None:
    responses = _responses(ROWS)
    check = launch_check(responses, LAUNCH, window_days=30,
                         where=responses["uses_x"] == "1", min_n=1)
    # before: 2 promoters, 0 passives, 3 detractors -> -20; after: 4 P, 1 D -> +60
    assert (check.n_before, check.n_after) == (5, 5)
    assert check.nps_before == pytest.approx(-20.0)
    assert check.nps_after == pytest.approx(60.0)
    diff, se, p = nps_difference((4, 0, 1), (2, 0, 3))
    assert check.change == pytest.approx(diff) == pytest.approx(80.0)
    assert check.p_value == pytest.approx(p)
    assert check.change_ci_low == pytest.approx(diff - 1.959964 * se, abs=1e-4)
    small = launch_check(responses, LAUNCH, window_days=30, min_n=30)
    assert small.small_n
    assert small.p_value is None
    assert small.change is not None


def test_launch_check_with_one_side_empty() -> None:
    responses = _responses([("2025-06-02", "promoter", "1")])
    check = launch_check(responses, LAUNCH, window_days=30, min_n=1)
    assert check.n_before == 0
    assert check.nps_before is None
    assert check.change is None


def test_fix_check_hand_case() -> None:
    # 10 detractor comments before (3 name the theme), 10 after (1 names it); promoters ignored.
    rows = ([("2025-05-01", "detractor", "")] * 10 + [("2025-07-01", "detractor", "")] * 10
            + [("2025-07-01", "promoter", "")] * 5)
    responses = _responses(rows)
    mentions = pd.DataFrame({"response_id": ["r0", "r1", "r2", "r10", "r20", "r21"],
                             "theme": "sync"})
    commenters = pd.Series(True, index=responses.index)
    result = fix_check(responses, commenters, mentions, "sync", LAUNCH, min_n=5)
    assert (result.comments_before, result.mentions_before) == (10, 3)
    assert (result.comments_after, result.mentions_after) == (10, 1)
    assert result.share_before == pytest.approx(0.3)
    assert result.change == pytest.approx(-0.2)
    expected = proportions_ztest([1, 3], [10, 10])[1]
    assert result.p_value == pytest.approx(expected)
    assert result.change_ci_low < -0.2 < result.change_ci_high
    everyone = fix_check(responses, commenters, mentions, "sync", LAUNCH, among="all", min_n=5)
    assert everyone.comments_after == 15
    assert everyone.mentions_after == 3
    silent = fix_check(responses, commenters & (responses.index >= 5), mentions, "sync",
                       LAUNCH, min_n=1)
    assert silent.comments_before == 5  # no comment, not in the denominator
    with pytest.raises(InputFileError, match="'fans' must be promoter, passive") as caught:
        fix_check(responses, commenters, mentions, "sync", LAUNCH, among="fans")
    assert "--among" in (hint(caught.value.code, "cli") or "")
