from __future__ import annotations

import pandas as pd
import pytest

from themer.analytics.themes import theme_table
from themer.errors import StatsError


def responses(scores: dict[str, int], survey_type: str = "relationship") -> pd.DataFrame:
    cat = {s: "promoter" if s >= 9 else "passive" if s >= 7 else "detractor" for s in range(11)}
    return pd.DataFrame({"response_id": list(scores), "score": list(scores.values()),
                         "category": [cat[s] for s in scores.values()],
                         "survey_type": survey_type})


def tag(rid: str, sid: str, kind: str, label: str) -> dict[str, str]:
    return {"response_id": rid, "statement_id": sid, "kind": kind, "label": label}


def test_hand_computed_table() -> None:
    frame = responses({"a": 10, "b": 9, "c": 8, "d": 3, "e": 0, "f": 10})
    tags = pd.DataFrame([
        tag("a", "a1", "area", "search"), tag("a", "a1", "type", "praise"),
        tag("a", "a2", "area", "search"), tag("a", "a2", "type", "praise"),  # same person twice
        tag("d", "d1", "area", "search"), tag("d", "d1", "type", "bug"),
        tag("e", "e1", "area", "billing"), tag("e", "e1", "type", "bug"),
        tag("c", "c1", "area", "unassigned"), tag("c", "c1", "type", "other"),
    ])
    table = theme_table(frame, tags, min_n=2)
    # overall: P=3 (a,b,f), passive=1 (c), D=2 (d,e): NPS = 100 * 1/6
    assert table.overall.nps == pytest.approx(100 / 6)
    rows = {(r.theme, r.kind): r for r in table.themes}
    search = rows[("search", "area")]
    assert (search.n, search.promoters, search.detractors) == (2, 1, 1)
    assert search.nps == 0.0
    assert search.frequency == pytest.approx(2 / 6)
    # NPS without a and d: b, c, e, f -> P=2, D=1 of 4 = 25 -> impact = 16.67 - 25
    assert search.impact == pytest.approx(100 / 6 - 25)
    assert search.points_at_stake == pytest.approx(100 / 6)
    assert not search.small_n
    bug = rows[("bug", "type")]
    assert (bug.n, bug.nps, bug.small_n) == (2, -100.0, False)
    assert rows[("billing/bug", "area_type")].n == 1
    assert rows[("billing/bug", "area_type")].small_n
    assert ("unassigned", "area") not in rows
    assert table.unassigned["area"] == {"statements": 1, "share": 0.2}  # 1 of 5 statements
    nps_order = [r.nps for r in table.themes]
    assert nps_order == sorted(nps_order)


def test_never_pools_survey_types_silently() -> None:
    frame = pd.concat([responses({"a": 9}), responses({"b": 3}, "transactional")])
    empty = pd.DataFrame(columns=["response_id", "statement_id", "kind", "label"])
    with pytest.raises(StatsError, match="never pooled silently"):
        theme_table(frame, empty)
    frame.attrs["pooled"] = True
    assert theme_table(frame, empty).overall.n == 2


def test_respondents_without_comments_count_in_n() -> None:
    frame = responses({"a": 10, "b": 0})
    tags = pd.DataFrame([tag("a", "a1", "area", "search")])
    table = theme_table(frame, tags)
    assert table.overall.n == 2
    assert table.themes[0].frequency == 0.5
